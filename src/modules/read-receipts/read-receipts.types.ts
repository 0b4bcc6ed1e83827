import { Field, ID, Int, ObjectType } from 'type-graphql';

/**
 * A participant's read position in a conversation: the highest seq they have read (0: nothing)
 * and when it moved there (their join time while nothing is read). `user` is a field resolver.
 */
@ObjectType({ simpleResolvers: true })
export class ReadReceipt {
  @Field(() => ID)
  conversationId: string;

  @Field(() => ID)
  userId: string;

  @Field(() => Int)
  lastReadSeq: number;

  @Field()
  readAt: Date;
}
