import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { AuthedContext, Context } from '../../shared/context';
import { notFound } from '../../shared/errors';
import { participantsLoader } from '../conversations/conversations.loaders';
import { User } from '../users/user.entity';
import { loadUserOrFail, userLoader } from '../users/users.loaders';
import type { PresenceStreams } from './presence-stream';
import { presenceLoader } from './presence.loaders';
import type { PresenceService } from './presence.service';
import { Presence, PresenceStatus } from './presence.types';

/** Presence queries, mutations, the `presenceChanged` subscription and `Presence`'s fields. */
@Authorized()
@Resolver(() => Presence)
export class PresenceResolver {
  constructor(
    private readonly service: PresenceService,
    private readonly streams: PresenceStreams,
  ) {}

  @Query(() => [Presence], { description: '[state]' })
  presence(@Arg('userIds', () => [ID]) userIds: string[]): Promise<Presence[]> {
    return this.service.get(userIds);
  }

  @Mutation(() => Presence, { description: '[state] null clears it' })
  setActiveConversation(
    @Arg('conversationId', () => ID, { nullable: true }) conversationId: string | null,
    @Ctx() ctx: AuthedContext,
  ): Promise<Presence> {
    const viewer = { userId: ctx.user.id, sessionId: ctx.session.id, connectionId: ctx.connectionId };
    return this.service.setActiveConversation(viewer, conversationId ?? null);
  }

  @Mutation(() => Presence, { description: '[state] the client reports idle (AWAY) or active (ONLINE)' })
  setPresenceStatus(
    @Arg('status', () => PresenceStatus) status: PresenceStatus,
    @Ctx() ctx: AuthedContext,
  ): Promise<Presence> {
    return this.service.setStatus(ctx.user.id, status);
  }

  @Subscription(() => Presence, {
    description:
      '[state] changes of the given users, or by default of everyone who shares a conversation with the viewer',
    subscribe: ({ args, context }) =>
      (context as Context).container
        .get(PresenceResolver)
        .subscribePresenceChanged((args as { userIds?: string[] | null }).userIds ?? null, context as AuthedContext),
  })
  presenceChanged(
    @Root() presence: Presence,
    @Arg('userIds', () => [ID], { nullable: true }) _userIds: string[] | null,
  ): Presence {
    return presence;
  }

  /** The `subscribe` of presenceChanged: FORBIDDEN for strangers is decided here, before any event. */
  subscribePresenceChanged(userIds: string[] | null, ctx: AuthedContext): Promise<AsyncIterable<Presence>> {
    return this.streams.open(ctx.user.id, userIds);
  }

  @FieldResolver(() => User)
  user(@Root() presence: Presence, @Ctx() ctx: AuthedContext): Promise<User> {
    return loadUserOrFail(ctx.loaders.get(userLoader), presence.userId);
  }

  /** Shown only to participants of that conversation: to others its id would leak where the user is. */
  @FieldResolver(() => ID, {
    nullable: true,
    description: 'the conversation the user says it is viewing (setActiveConversation), if any',
  })
  async activeConversationId(@Root() presence: Presence, @Ctx() ctx: AuthedContext): Promise<string | null> {
    if (!presence.activeConversationId) return null;
    const members = await ctx.loaders.get(participantsLoader).load(presence.activeConversationId);
    return members.some((m) => m.userId === ctx.user.id) ? presence.activeConversationId : null;
  }
}

/** `User.presence`, batched: a page of users costs one presence store round trip. */
@Authorized()
@Resolver(() => User)
export class UserPresenceResolver {
  @FieldResolver(() => Presence, { description: '[state] live presence of this user' })
  async presence(@Root() user: User, @Ctx() ctx: AuthedContext): Promise<Presence> {
    const presence = await ctx.loaders.get(presenceLoader).load(user.id);
    if (!presence) throw notFound('user not found');
    return presence;
  }
}
