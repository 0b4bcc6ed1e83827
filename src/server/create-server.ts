import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import type { Config } from '../config/config';
import { openDatabase, type Database } from '../db/data-source';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { AuthService } from '../modules/auth/auth.service';
import { SessionCache, createDatabaseSessionStore, createRedisSessionStore } from '../modules/auth/session.store';
import { ConversationsResolver } from '../modules/conversations/conversations.resolver';
import { ConversationsService } from '../modules/conversations/conversations.service';
import { MessageStreams } from '../modules/messages/message-stream';
import { ConversationMessagesResolver, MessageFieldsResolver, MessagesResolver } from '../modules/messages/messages.resolver';
import { MessagesService } from '../modules/messages/messages.service';
import { UsersResolver } from '../modules/users/users.resolver';
import { UsersService } from '../modules/users/users.service';
import { createMemoryEventBus, createRedisEventBus, type EventBus } from '../pubsub/event-bus';
import type { SessionRevokedPayload } from '../pubsub/payloads';
import { topics } from '../pubsub/topics';
import { createRedis } from '../redis/redis-client';
import { createLogger, type Logger } from '../shared/logger';
import { Container } from './container';
import { createErrorFormatter } from './format-error';
import { createCompiledExecutor } from './compiled-execution';
import { createHttpHandler } from './http';
import { createMetrics, type Metrics } from './metrics';
import { createSchema } from './schema';
import { loadOrCreateSecret } from './secret';
import { SessionSockets } from './session-sockets';
import { createStateFeatures } from './state-features';
import { createWebSocketServer } from './websocket';

/** A running Parley instance. */
export interface ParleyServer {
  /** `http://host:port/graphql` */
  url: string;
  /** `ws://host:port/graphql` */
  wsUrl: string;
  port: number;
  httpServer: Server;
  database: Database;
  metrics: Metrics;
  log: Logger;
  /**
   * Graceful stop: stop accepting, close sockets with 1001, let in-flight requests finish (up to
   * SHUTDOWN_TIMEOUT_MS), then close pub/sub, Redis and the database pool.
   */
  stop(): Promise<void>;
}

/**
 * The composition root: opens the database (running migrations), Redis or the in-process
 * fallbacks, builds services, resolvers and the schema, and serves HTTP and WebSocket on one
 * port at `/graphql`.
 *
 * @param options.logger - a logger to use instead of one made from `config.logLevel`.
 * @throws when the database or Redis cannot be reached at start-up.
 */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<ParleyServer> {
  const log = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const database = await openDatabase(config, log, { onQuery: () => metrics.dbQueries.inc() });
  const ds = database.dataSource;
  const closers: Array<() => Promise<unknown>> = [() => database.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => log.error({ err }, 'closing failed'));
  };

  try {
    const jwtSecret = config.jwtSecret ?? (await loadOrCreateSecret(config.dataDir));
    let bus: EventBus;
    let commands: Redis | null = null;
    if (config.redisUrl) {
      commands = createRedis(config.redisUrl, 'parley:cmd', { autoPipelining: true });
      const connections = [commands, createRedis(config.redisUrl, 'parley:pub', { autoPipelining: true }), createRedis(config.redisUrl, 'parley:sub')];
      closers.push(() => Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect()))));
      await Promise.all(connections.map((c) => (c.status === 'ready' ? null : new Promise((resolve, reject) => {
        c.once('ready', resolve);
        c.once('error', reject);
      }))));
      bus = createRedisEventBus(connections[1], connections[2], config.redisPrefix, log);
    } else {
      bus = createMemoryEventBus();
    }
    const sessions = new SessionCache(commands ? createRedisSessionStore(commands, config.redisPrefix) : createDatabaseSessionStore(ds), {
      ttlMs: config.sessionCacheMs,
    });

    const auth = new AuthService(ds, sessions, bus, jwtSecret, config.tokenTtlSeconds);
    const users = new UsersService(ds);
    const conversations = new ConversationsService(ds, bus, log, config.maxParticipants);
    const state = createStateFeatures({ config, ds, bus, redis: commands, conversations, log, metrics });
    const messages = new MessagesService(ds, database.statements, bus, conversations, log);
    const streams = new MessageStreams(ds, bus, conversations, messages, {
      ready: () => {
        metrics.liveMessageStreams.inc();
        metrics.messageStreamsStarted.inc();
      },
      ended: () => metrics.liveMessageStreams.dec(),
    });
    const container = new Container()
      .add(new AuthResolver(auth))
      .add(new UsersResolver(users))
      .add(new ConversationsResolver(conversations))
      .add(new MessagesResolver(messages, streams))
      .add(new MessageFieldsResolver())
      .add(new ConversationMessagesResolver(messages));
    for (const resolver of state.resolvers) container.add(resolver);

    const schema = await createSchema();
    const formatError = createErrorFormatter(log);
    const httpServer = createServer();
    const readiness = async () => {
      const failing: string[] = [];
      await ds.query('SELECT 1').catch(() => failing.push('database'));
      if (!(await bus.isReady())) failing.push('pubsub');
      if (commands && (await commands.ping().catch(() => null)) !== 'PONG') failing.push('redis');
      return failing;
    };
    // One compiled-operation cache for both transports (graphql-jit, see compiledExecution.ts).
    const executor = createCompiledExecutor(schema);
    const { handler, apollo } = await createHttpHandler({ schema, executor, httpServer, ds, auth, presence: state.presence, container, metrics, formatError, readiness });
    httpServer.on('request', handler);
    const sockets = new SessionSockets();
    const ws = createWebSocketServer({ schema, executor, httpServer, ds, auth, presence: state.presence, container, metrics, formatError, sockets, log, keepAliveMs: config.wsKeepAliveMs, maxBufferedBytes: config.wsMaxBufferedBytes });
    const unsubscribeRevoked = await bus.subscribe<SessionRevokedPayload>(topics.sessionRevoked(), ({ sessionId }) => {
      sessions.forget(sessionId);
      const closed = sockets.closeSession(sessionId, 'Session revoked');
      if (closed) metrics.wsRejected.inc({ reason: 'revoked' }, closed);
    });
    closers.push(() => bus.close());
    closers.push(() => unsubscribeRevoked());
    await state.start();
    closers.push(() => state.stop());

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, resolve);
    });
    const port = (httpServer.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    log.info({ port, database: database.embedded ? 'embedded PGlite' : 'PostgreSQL', pubsub: commands ? 'Redis' : 'in-process' }, 'Parley is listening');

    let stopping: Promise<void> | null = null;
    return {
      url: `http://${host}:${port}/graphql`,
      wsUrl: `ws://${host}:${port}/graphql`,
      port,
      httpServer,
      database,
      metrics,
      log,
      stop() {
        stopping ??= (async () => {
          const timer = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
          // Presence first: this instance's users go OFFLINE in one batch, then the sockets close.
          await state.presence.stop();
          await ws.dispose();
          await apollo.stop();
          clearTimeout(timer);
          await closeAll();
          log.info('Parley stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
