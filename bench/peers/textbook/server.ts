import 'reflect-metadata';
import { createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { makeExecutableSchema } from '@graphql-tools/schema';
import cors from 'cors';
import express from 'express';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { useServer } from 'graphql-ws/use/ws';
import Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { WebSocketServer } from 'ws';
import { Conversation, Message, Participant, User } from './entities';
import { buildResolvers, type PeerContext } from './resolvers';
import { typeDefs } from './schema';

/**
 * The textbook peer (issue 17): the chat server a competent developer builds by following the
 * Apollo Server 5 and graphql-ws documentation ("Subscriptions in Apollo Server"): express with
 * `expressMiddleware`, graphql-ws `useServer` on a `ws` server sharing the HTTP server, JWT checked
 * in the HTTP context and in `onConnect`, graphql-redis-subscriptions with one topic per event type
 * and `withFilter`, TypeORM with a transaction that locks the conversation row for the seq. It
 * answers the contract operations the bench scenarios use (`sendMessage`, `messages`,
 * `messageAdded`) over the tables Parley's migrations created. Configured like Parley: PORT, HOST,
 * DATABASE_URL, REDIS_URL, REDIS_PREFIX, JWT_SECRET, DB_POOL_SIZE. Not a product: no sessions
 * store, no limits.
 */
async function main(): Promise<void> {
  const env = process.env;
  const secret = env.JWT_SECRET!;
  const prefix = env.REDIS_PREFIX ?? 'peer:';
  const db = new DataSource({
    type: 'postgres',
    url: env.DATABASE_URL,
    entities: [User, Conversation, Participant, Message],
    synchronize: false,
    extra: { max: Number(env.DB_POOL_SIZE ?? 10) },
  });
  await db.initialize();
  const pubsub = new RedisPubSub({ publisher: new Redis(env.REDIS_URL!), subscriber: new Redis(env.REDIS_URL!) });

  const userOf = (token: unknown): string | null => {
    if (typeof token !== 'string') return null;
    try {
      const claims = jwt.verify(token, secret) as { sub?: string };
      return claims.sub ?? null;
    } catch {
      return null;
    }
  };

  const schema = makeExecutableSchema({ typeDefs, resolvers: buildResolvers(db, pubsub, prefix) });
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const serverCleanup = useServer<Record<string, unknown>, { userId: string }>(
    {
      schema,
      onConnect: (ctx) => {
        const userId = userOf(ctx.connectionParams?.authToken);
        if (!userId) return false;
        ctx.extra.userId = userId;
        return true;
      },
      context: (ctx): PeerContext => ({ userId: (ctx.extra as { userId?: string }).userId ?? null }),
    },
    wsServer,
  );
  const server = new ApolloServer<PeerContext>({
    schema,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await serverCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await server.start();
  app.get('/readyz', (_req, res) => {
    res.send('ok');
  });
  app.use(
    '/graphql',
    cors<cors.CorsRequest>(),
    express.json(),
    expressMiddleware(server, {
      context: async ({ req }) => ({ userId: userOf(req.headers.authorization?.replace(/^Bearer /, '')) }),
    }),
  );
  const port = Number(env.PORT ?? 4100);
  await new Promise<void>((resolve) => httpServer.listen(port, env.HOST ?? '127.0.0.1', resolve));
  const stop = () => {
    void server
      .stop()
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
