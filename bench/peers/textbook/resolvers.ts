import { GraphQLError, GraphQLScalarType, type GraphQLResolveInfo } from 'graphql';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import { withFilter } from 'graphql-subscriptions';
import { LessThan, MoreThan, type DataSource } from 'typeorm';
import { Conversation, Message, Participant, User, type MessageRow } from './entities';

/** What every resolver gets: the authenticated user (null when the token is missing or invalid). */
export interface PeerContext {
  userId: string | null;
  /** the user's conversations (WebSocket subscriptions: loaded when the subscription starts) */
  conversationIds?: Set<string>;
}

const MESSAGE_ADDED = 'MESSAGE_ADDED';

const fail = (code: string, message: string) => new GraphQLError(message, { extensions: { code } });

function viewer(ctx: PeerContext): string {
  if (!ctx.userId) throw fail('UNAUTHENTICATED', 'sign in first');
  return ctx.userId;
}

/**
 * The resolvers as the Apollo Server and graphql-ws docs teach them: one PubSub topic per event
 * type filtered with `withFilter`, TypeORM repositories and a transaction for the seq.
 */
export function buildResolvers(db: DataSource, pubsub: RedisPubSub, prefix: string) {
  const topic = `${prefix}${MESSAGE_ADDED}`;

  async function assertMember(conversationId: string, userId: string): Promise<void> {
    if (!(await db.getRepository(Participant).existsBy({ conversationId, userId })))
      throw fail('FORBIDDEN', 'not a participant of this conversation');
  }

  /** Replays what a reconnecting client missed (`after`), then goes on with the live events, without repeats. */
  async function* replayThenLive(
    live: AsyncIterator<{ messageAdded: MessageRow }>,
    after: Array<{ conversationId: string; seq: number }>,
    ctx: PeerContext,
  ): AsyncGenerator<{ messageAdded: MessageRow }> {
    const replayed = new Map<string, number>();
    for (const { conversationId, seq } of after) {
      if (!ctx.conversationIds?.has(conversationId)) continue;
      const rows = await db.getRepository(Message).find({
        where: { conversationId, seq: MoreThan(seq) },
        order: { seq: 'ASC' },
        relations: { sender: true },
      });
      for (const row of rows) yield { messageAdded: row };
      replayed.set(conversationId, rows.length ? rows[rows.length - 1].seq : seq);
    }
    for (;;) {
      const next = await live.next();
      if (next.done) return;
      const m = next.value.messageAdded;
      if (m.seq <= (replayed.get(m.conversationId) ?? 0)) continue;
      yield next.value;
    }
  }

  return {
    DateTime: new GraphQLScalarType({
      name: 'DateTime',
      // Redis payloads arrive as JSON: dates are strings by then.
      serialize: (value) => new Date(value as string | Date).toISOString(),
    }),
    Message: {
      sender: (m: MessageRow) => m.sender ?? db.getRepository(User).findOneByOrFail({ id: m.senderId }),
    },
    Query: {
      async messages(
        _: unknown,
        args: { conversationId: string; first: number; after?: string | null; order: string },
        ctx: PeerContext,
      ) {
        const userId = viewer(ctx);
        await assertMember(args.conversationId, userId);
        const newestFirst = args.order !== 'OLDEST_FIRST';
        const where = args.after
          ? { conversationId: args.conversationId, seq: (newestFirst ? LessThan : MoreThan)(Number(args.after)) }
          : { conversationId: args.conversationId };
        const rows = await db.getRepository(Message).find({
          where,
          order: { seq: newestFirst ? 'DESC' : 'ASC' },
          take: args.first + 1,
          relations: { sender: true },
        });
        const page = rows.slice(0, args.first);
        return {
          edges: page.map((node) => ({ cursor: String(node.seq), node })),
          pageInfo: {
            hasNextPage: rows.length > args.first,
            endCursor: page.length ? String(page[page.length - 1].seq) : null,
          },
        };
      },
    },
    Mutation: {
      async sendMessage(
        _: unknown,
        { input }: { input: { conversationId?: string; body: string; clientMessageId?: string } },
        ctx: PeerContext,
      ) {
        const userId = viewer(ctx);
        if (!input.conversationId) throw fail('BAD_USER_INPUT', 'conversationId is required');
        if (!input.body || input.body.length > 4000) throw fail('BAD_USER_INPUT', 'body must be 1-4000 characters');
        const conversationId = input.conversationId;
        const saved = await db.transaction(async (manager) => {
          const conversation = await manager.findOne(Conversation, {
            where: { id: conversationId },
            lock: { mode: 'pessimistic_write' },
          });
          if (!conversation) throw fail('NOT_FOUND', 'no such conversation');
          if (!(await manager.existsBy(Participant, { conversationId, userId })))
            throw fail('FORBIDDEN', 'not a participant of this conversation');
          conversation.lastSeq += 1;
          conversation.lastActivityAt = new Date();
          await manager.save(Conversation, conversation);
          return manager.save(
            Message,
            manager.create(Message, {
              conversationId,
              senderId: userId,
              seq: conversation.lastSeq,
              body: input.body,
              clientMessageId: input.clientMessageId ?? null,
            }),
          );
        });
        const message: MessageRow = { ...saved, sender: await db.getRepository(User).findOneByOrFail({ id: userId }) };
        await pubsub.publish(topic, { messageAdded: message });
        return message;
      },
    },
    Subscription: {
      messageAdded: {
        subscribe: async (
          root: { messageAdded: MessageRow } | undefined,
          args: {
            conversationId?: string | null;
            includeOwn?: boolean;
            after?: Array<{ conversationId: string; seq: number }> | null;
          },
          ctx: PeerContext,
          info: GraphQLResolveInfo,
        ) => {
          const userId = viewer(ctx);
          const rows = await db.getRepository(Participant).findBy({ userId });
          ctx.conversationIds = new Set(rows.map((r) => r.conversationId));
          if (args.conversationId && !ctx.conversationIds.has(args.conversationId))
            throw fail('FORBIDDEN', 'not a participant of this conversation');
          const live = (await withFilter(
            () => pubsub.asyncIterableIterator(topic) as AsyncIterableIterator<{ messageAdded: MessageRow }>,
            (
              payload: { messageAdded: MessageRow } | undefined,
              variables: typeof args | undefined,
              context?: PeerContext,
            ) => {
              const m = payload!.messageAdded;
              return (
                context!.conversationIds!.has(m.conversationId) &&
                (!variables?.conversationId || m.conversationId === variables.conversationId) &&
                (variables?.includeOwn === true || m.senderId !== context!.userId)
              );
            },
          )(root, args, ctx, info)) as AsyncIterator<{ messageAdded: MessageRow }>;
          return args.after?.length ? replayThenLive(live, args.after, ctx) : live;
        },
      },
    },
  };
}
