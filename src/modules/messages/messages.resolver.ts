import {
  Arg,
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { AuthedContext, Context } from '../../shared/context';
import { conversationLoader } from '../conversations/conversations.loaders';
import { userLoader } from '../users/users.loaders';
import { toConnection } from '../../shared/connection.types';
import { notFound } from '../../shared/errors';
import { perEvent } from '../../shared/event-memo';
import { Conversation } from '../conversations/conversation.entity';
import { User } from '../users/user.entity';
import { Message } from './message.entity';
import type { MessageStreams } from './message-stream';
import { lastMessageLoader } from './messages.loaders';
import { ConversationPositionInput, MessageConnection, MessageOrder, SendMessageInput } from './messages.types';
import type { MessagesService } from './messages.service';

@ArgsType()
class MessagePageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 50 })
  first: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => MessageOrder, { nullable: true, defaultValue: MessageOrder.NEWEST_FIRST })
  order: MessageOrder | null;
}

/** Explicit nulls take the defaults, as omitted arguments do. */
const pageArgs = (args: MessagePageArgs) => ({
  first: args.first ?? 50,
  after: args.after,
  order: args.order ?? MessageOrder.NEWEST_FIRST,
});

@ArgsType()
class MessageAddedArgs {
  @Field(() => ID, { nullable: true })
  conversationId?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  includeOwn?: boolean | null;

  @Field(() => [ConversationPositionInput], { nullable: true })
  after?: ConversationPositionInput[] | null;
}

@Authorized()
@Resolver(() => Message)
export class MessagesResolver {
  constructor(
    private readonly service: MessagesService,
    private readonly streams: MessageStreams,
  ) {}

  @Query(() => MessageConnection, {
    description: '[core] FORBIDDEN unless the viewer is a participant; first is 1..100',
  })
  async messages(
    @Arg('conversationId', () => ID) conversationId: string,
    @Args(() => MessagePageArgs) args: MessagePageArgs,
    @Ctx() ctx: AuthedContext,
  ): Promise<MessageConnection> {
    const page = await this.service.list(ctx.user.id, conversationId, pageArgs(args));
    return toConnection(page, (m) => this.service.cursorOf(m));
  }

  @Mutation(() => Message, { description: '[core]' })
  async sendMessage(
    @Arg('input', () => SendMessageInput) input: SendMessageInput,
    @Ctx() ctx: AuthedContext,
  ): Promise<Message> {
    const { message, sender } = await this.service.send(ctx.user.id, input);
    if (sender) ctx.loaders.get(userLoader).prime(sender.id, sender);
    return message;
  }

  @Subscription(() => Message, {
    description:
      "[core] New messages in the viewer's conversations (one conversation if conversationId is given).\nThe sender's own messages are not echoed unless includeOwn is true.\nWith `after`, each listed conversation first replays every message with seq greater than the\ngiven position, oldest first, then continues live: across that boundary nothing is skipped and\nnothing is delivered twice. Within a conversation, events arrive in seq order.\nFORBIDDEN when conversationId names a conversation the viewer is not in.",
    subscribe: ({ args, context, info }) =>
      (context as Context).container
        .get(MessagesResolver)
        .subscribeMessageAdded(args as MessageAddedArgs, context as AuthedContext, info),
  })
  messageAdded(@Root() message: Message, @Args(() => MessageAddedArgs) _args: MessageAddedArgs): Message {
    return message;
  }

  /** The `subscribe` of messageAdded: authorization happens here, before any event flows. */
  subscribeMessageAdded(args: MessageAddedArgs, ctx: AuthedContext, _info: unknown): Promise<AsyncIterable<Message>> {
    return this.streams.open(ctx.user.id, args);
  }
}

/**
 * Fields of Message that read other rows. Not `@Authorized()`: a Message is only reached through
 * an authorized root field (history, a send, a subscription), and type-graphql runs an auth
 * middleware, hence a promise, for every resolved field of an authorized resolver class: 50 per
 * history page for `sender` alone.
 */
@Resolver(() => Message)
export class MessageFieldsResolver {
  @FieldResolver(() => User)
  sender(@Root() message: Message, @Ctx() ctx: AuthedContext): User | Promise<User> {
    // Synchronous when the query joined the sender: graphql-js then completes the message without
    // a promise.
    return message.sender ?? this.loadSender(message, ctx);
  }

  private async loadSender(message: Message, ctx: AuthedContext): Promise<User> {
    const user = await perEvent(message, 'sender', () => ctx.loaders.get(userLoader).load(message.senderId));
    if (!user) throw notFound('sender not found');
    return user;
  }

  @FieldResolver(() => Conversation)
  async conversation(@Root() message: Message, @Ctx() ctx: AuthedContext): Promise<Conversation> {
    const conversation = await perEvent(message, 'conversation', () =>
      ctx.loaders.get(conversationLoader).load(message.conversationId),
    );
    if (!conversation) throw notFound('conversation not found');
    return conversation;
  }
}

/** Conversation fields that read messages. */
@Authorized()
@Resolver(() => Conversation)
export class ConversationMessagesResolver {
  constructor(private readonly service: MessagesService) {}

  @FieldResolver(() => Message, { nullable: true, description: 'the newest message, null for an empty conversation' })
  lastMessage(@Root() conversation: Conversation, @Ctx() ctx: AuthedContext): Promise<Message | null> | null {
    return conversation.lastSeq === 0 ? null : ctx.loaders.get(lastMessageLoader).load(conversation.id);
  }

  @FieldResolver(() => MessageConnection, { description: 'newest first; the same pagination as Query.messages' })
  async messages(
    @Root() conversation: Conversation,
    @Args(() => MessagePageArgs) args: MessagePageArgs,
  ): Promise<MessageConnection> {
    // The conversation was reached through the viewer's membership, so no second check here.
    const page = await this.service.page(conversation.id, pageArgs(args));
    return toConnection(page, (m) => this.service.cursorOf(m));
  }
}
