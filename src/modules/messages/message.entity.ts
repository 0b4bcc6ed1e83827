import { Field, ID, Int, ObjectType } from 'type-graphql';
import { viewerIndependent } from '../../shared/viewer-independence';
import type { User } from '../users/user.entity';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A chat message. `seq` is 1, 2, 3 ... within its conversation, in commit order, with no gaps. */
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'messages' })
export class Message {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column('uuid', { name: 'conversation_id' })
  conversationId: string;

  @Column('uuid', { name: 'sender_id' })
  senderId: string;

  @Field({
    description: '1-4000 characters, stored and returned exactly as sent (plain text, never interpreted as HTML)',
  })
  @Column('text')
  body: string;

  @Field(() => Int, { description: '1, 2, 3 ... within the conversation, in commit order, with no gaps' })
  @Column('integer')
  seq: number;

  @Field(() => String, { nullable: true, description: "the sender's idempotency key, echoed back" })
  @Column('text', { name: 'client_message_id', nullable: true })
  clientMessageId: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /**
   * The sender, when the query that read this message joined it (history pages, a send): the
   * `sender` field then resolves without a loader or a promise. Not a column.
   */
  sender?: User;
}

/**
 * The fields of Message that every viewer sees alike. Not `conversation`: a Conversation carries
 * the viewer's read position and unread count.
 */
export const messageViewerIndependent = viewerIndependent(Message, [
  'id',
  'conversationId',
  'seq',
  'body',
  'clientMessageId',
  'createdAt',
  'sender',
]);
