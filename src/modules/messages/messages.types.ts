import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../shared/connection.types';
import { Message } from './message.entity';

/** Order of a message page. */
export enum MessageOrder {
  NEWEST_FIRST = 'NEWEST_FIRST',
  OLDEST_FIRST = 'OLDEST_FIRST',
}

registerEnumType(MessageOrder, {
  name: 'MessageOrder',
  valuesConfig: {
    NEWEST_FIRST: { description: 'newest first; `after` pages toward older messages' },
    OLDEST_FIRST: { description: 'oldest first; `after` pages toward newer messages (catch-up after a gap)' },
  },
});

@ObjectType({ simpleResolvers: true })
export class MessageConnection extends connectionTypes('Message', Message) {}

@InputType()
export class SendMessageInput {
  @Field(() => ID, { nullable: true, description: 'exactly one of conversationId or participantIds' })
  conversationId?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'creates the conversation if this participant set has none; the sender is added if missing',
  })
  participantIds?: string[] | null;

  @Field()
  body: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Idempotency key chosen by the client (1-64 chars). Sending again with the same key returns the\nalready stored message, creates nothing and publishes nothing.',
  })
  clientMessageId?: string | null;
}

@InputType({ description: 'Where a subscriber already is in one conversation: replay starts after this seq.' })
export class ConversationPositionInput {
  @Field(() => ID)
  conversationId: string;

  @Field(() => Int)
  seq: number;
}
