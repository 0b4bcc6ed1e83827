import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Membership of one user in one conversation. Never changes once the conversation exists. */
@Entity({ name: 'conversation_participants' })
export class Participant {
  @PrimaryColumn('uuid', { name: 'conversation_id' })
  conversationId: string;

  @PrimaryColumn('uuid', { name: 'user_id' })
  userId: string;

  @Column('timestamptz', { name: 'joined_at' })
  joinedAt: Date;
}
