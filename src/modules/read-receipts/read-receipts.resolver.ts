import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import type { AuthedContext, Context } from '../../shared/context';
import { Conversation } from '../conversations/conversation.entity';
import { User } from '../users/user.entity';
import { loadUserOrFail, userLoader } from '../users/users.loaders';
import type { ReadReceiptStreams } from './read-receipt-stream';
import { lastReadSeqLoader, readKey, readReceiptsLoader, unreadCountLoader } from './read-receipts.loaders';
import type { ReadReceiptsService } from './read-receipts.service';
import { ReadReceipt } from './read-receipts.types';

/**
 * `Mutation.markConversationRead`, `Subscription.readReceipt` and `ReadReceipt.user`; every field
 * needs a signed-in viewer (UNAUTHENTICATED otherwise).
 */
@Authorized()
@Resolver(() => ReadReceipt)
export class ReadReceiptsResolver {
  constructor(
    private readonly service: ReadReceiptsService,
    private readonly streams: ReadReceiptStreams,
  ) {}

  @Mutation(() => ReadReceipt, { description: '[state] read position only moves forward; returns the stored receipt' })
  markConversationRead(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('seq', () => Int) seq: number,
    @Ctx() ctx: AuthedContext,
  ): Promise<ReadReceipt> {
    return this.service.markRead(ctx.user.id, conversationId, seq);
  }

  @Subscription(() => ReadReceipt, {
    description: "[state] read positions of others in the viewer's conversations (or one conversation)",
    subscribe: ({ args, context }) =>
      (context as Context).container
        .get(ReadReceiptsResolver)
        .subscribeReadReceipt(
          (args as { conversationId?: string | null }).conversationId ?? null,
          context as AuthedContext,
        ),
  })
  readReceipt(
    @Root() receipt: ReadReceipt,
    @Arg('conversationId', () => ID, { nullable: true }) _conversationId: string | null,
  ): ReadReceipt {
    return receipt;
  }

  /** The `subscribe` of readReceipt: FORBIDDEN for a conversation the viewer is not in, before any event. */
  subscribeReadReceipt(conversationId: string | null, ctx: AuthedContext): Promise<AsyncIterable<ReadReceipt>> {
    return this.streams.open(ctx.user.id, conversationId);
  }

  @FieldResolver(() => User)
  user(@Root() receipt: ReadReceipt, @Ctx() ctx: AuthedContext): Promise<User> {
    return loadUserOrFail(ctx.loaders.get(userLoader), receipt.userId);
  }
}

/**
 * The viewer's read state on `Conversation` (`lastReadSeq`, `unreadCount`, `readReceipts`),
 * batched across a page of conversations by the read-receipts loaders.
 */
@Authorized()
@Resolver(() => Conversation)
export class ConversationReadsResolver {
  @FieldResolver(() => Int, { description: '[state] highest seq the viewer has read (0 = nothing read)' })
  async lastReadSeq(@Root() conversation: Conversation, @Ctx() ctx: AuthedContext): Promise<number> {
    return (await ctx.loaders.get(lastReadSeqLoader).load(readKey(conversation.id, ctx.user.id)))?.seq ?? 0;
  }

  @FieldResolver(() => Int, { description: '[state] messages from others with seq > lastReadSeq' })
  async unreadCount(@Root() conversation: Conversation, @Ctx() ctx: AuthedContext): Promise<number> {
    if (conversation.lastSeq === 0) return 0;
    return (await ctx.loaders.get(unreadCountLoader).load(readKey(conversation.id, ctx.user.id)))?.count ?? 0;
  }

  @FieldResolver(() => [ReadReceipt], { description: "[state] every participant's read position" })
  readReceipts(@Root() conversation: Conversation, @Ctx() ctx: AuthedContext): Promise<ReadReceipt[]> {
    return ctx.loaders.get(readReceiptsLoader).load(conversation.id);
  }
}
