import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root, Subscription } from 'type-graphql';
import type { AuthedContext, Context } from '../../shared/context';
import { User } from '../users/user.entity';
import { loadUserOrFail, userLoader } from '../users/users.loaders';
import type { TypingStreams } from './typing-stream';
import type { TypingService } from './typing.service';
import { TypingEvent } from './typing.types';

/** `setTyping`, the `typing` subscription and `TypingEvent.user`. */
@Authorized()
@Resolver(() => TypingEvent)
export class TypingResolver {
  constructor(
    private readonly service: TypingService,
    private readonly streams: TypingStreams,
  ) {}

  @Mutation(() => Boolean, {
    description: '[state] ephemeral; isTyping=true expires by itself after a few seconds without a refresh',
  })
  setTyping(
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('isTyping', () => Boolean) isTyping: boolean,
    @Ctx() ctx: AuthedContext,
  ): Promise<boolean> {
    return this.service.setTyping(ctx.user.id, conversationId, isTyping);
  }

  @Subscription(() => TypingEvent, {
    description: '[state]',
    subscribe: ({ args, context }) =>
      (context as Context).container
        .get(TypingResolver)
        .subscribeTyping((args as { conversationId: string }).conversationId, context as AuthedContext),
  })
  typing(@Root() event: TypingEvent, @Arg('conversationId', () => ID) _conversationId: string): TypingEvent {
    return event;
  }

  /** The `subscribe` of typing: FORBIDDEN for non-participants, before any event. */
  subscribeTyping(conversationId: string, ctx: AuthedContext): Promise<AsyncIterable<TypingEvent>> {
    return this.streams.open(ctx.user.id, conversationId);
  }

  @FieldResolver(() => User)
  user(@Root() event: TypingEvent, @Ctx() ctx: AuthedContext): Promise<User> {
    return loadUserOrFail(ctx.loaders.get(userLoader), event.userId);
  }
}
