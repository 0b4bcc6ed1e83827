import { Field, ID, ObjectType } from 'type-graphql';

/** A participant started or stopped typing. `user` is a field resolver (typing.resolver.ts). */
@ObjectType({ simpleResolvers: true })
export class TypingEvent {
  @Field(() => ID)
  conversationId: string;

  @Field(() => ID)
  userId: string;

  @Field()
  isTyping: boolean;
}
