import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A conversation, identified by its participant set: `participantKey` is the SHA-256 of the
 * sorted, de-duplicated participant ids and is unique, which makes get-or-create race-free.
 * `lastSeq` is the counter row from which each message takes its gap-free `seq`.
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A conversation is identified by its set of participants: the same set, in any order, is the same\nconversation. Two participants make a direct conversation; more make a group.',
})
@Entity({ name: 'conversations' })
export class Conversation {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text', { name: 'participant_key' })
  participantKey: string;

  @Field()
  @Column('boolean', { name: 'is_group' })
  isGroup: boolean;

  @Field(() => String, { nullable: true })
  @Column('text', { nullable: true })
  title: string | null;

  /** seq of the newest message; 0 for an empty conversation. */
  @Field(() => Int, { description: 'seq of the newest message (0 for an empty conversation)' })
  @Column('integer', { name: 'last_seq' })
  lastSeq: number;

  /** Time of the newest message, or of creation: the order of `Query.conversations`. */
  @Field({ description: 'time of the newest message, or of creation when empty' })
  @Column('timestamptz', { name: 'last_activity_at' })
  lastActivityAt: Date;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
