import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AuthedContext } from '../../shared/context';
import { toConnection } from '../../shared/connection.types';
import { User } from '../users/user.entity';
import { userLoader } from '../users/users.loaders';
import { Conversation } from './conversation.entity';
import { participantsLoader } from './conversations.loaders';
import { ConversationConnection } from './conversations.types';
import type { ConversationsService } from './conversations.service';

/**
 * `Query.conversation`, `Query.conversations`, `Mutation.startConversation` and
 * `Conversation.participants`; every field needs a signed-in viewer (UNAUTHENTICATED otherwise).
 */
@Authorized()
@Resolver(() => Conversation)
export class ConversationsResolver {
  constructor(private readonly service: ConversationsService) {}

  @Query(() => Conversation, {
    nullable: true,
    description: '[core] null when it does not exist or the viewer is not a participant',
  })
  conversation(@Arg('id', () => ID) id: string, @Ctx() ctx: AuthedContext): Promise<Conversation | null> {
    return this.service.findForViewer(ctx.user.id, id);
  }

  @Query(() => ConversationConnection, { description: "[core] the viewer's conversations, most recent activity first" })
  async conversations(
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: AuthedContext,
  ): Promise<ConversationConnection> {
    const page = await this.service.listForViewer(ctx.user.id, { first: first ?? 20, after });
    return toConnection(page, (c) => this.service.cursorOf(c));
  }

  @Mutation(() => Conversation, {
    description: '[core] get-or-create by participant set; the caller is added if missing',
  })
  startConversation(
    @Arg('participantIds', () => [ID]) participantIds: string[],
    @Arg('title', () => String, { nullable: true }) title: string | null,
    @Ctx() ctx: AuthedContext,
  ): Promise<Conversation> {
    return this.service.start(ctx.user.id, participantIds, title);
  }

  @FieldResolver(() => [User], { description: 'sorted by id; always includes the viewer' })
  async participants(@Root() conversation: Conversation, @Ctx() ctx: AuthedContext): Promise<User[]> {
    const members = await ctx.loaders.get(participantsLoader).load(conversation.id);
    const users = await ctx.loaders.get(userLoader).loadMany(members.map((m) => m.userId));
    return users.filter((u): u is User => u instanceof User);
  }
}
