import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/config';
import { openDatabase, poolStats, type Database } from '../db/data-source';
import { createCompiledExecutor } from '../execution/compiled-executor';
import { traceExecutor } from '../execution/traced-executor';
import { closeHttpServer, createHttpHandler } from '../http/http-server';
import { modules as registry } from '../modules';
import type { ModuleInstance, ModuleContext, ParleyModule } from '../modules/module';
import { Container } from '../shared/container';
import type { Authenticator, SocketViewer } from '../shared/context';
import { createErrorFormatter } from '../shared/format-error';
import { observeAll, type StreamObserver } from '../shared/live-stream';
import { createLogger, type Logger } from '../shared/logger';
import { noGuard } from '../shared/operation-guard';
import { createOriginPolicy } from '../shared/origin-policy';
import { addScrapedGauges, createMetrics, metricsStreamObserver, type Metrics } from '../shared/metrics';
import { commandQueueLength } from '../redis/redis-client';
import { RedisKeyValueCache } from '../redis/redis-kv-cache';
import { SessionSockets } from '../ws/session-sockets';
import { createWebSocketServer } from '../ws/ws-server';
import { createContextFactory } from './context';
import { openMessaging } from './infrastructure';
import { buildParleySchema } from './schema';

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
   * Graceful stop: stop the modules (presence goes OFFLINE), close sockets with 1001, let
   * in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), then close pub/sub, Redis and the pool.
   */
  stop(): Promise<void>;
}

/** How {@link startServer} may be adjusted (tests, tools). */
export interface StartOptions {
  /** A logger to use instead of one made from `config.logLevel`. */
  logger?: Logger;
  /** Told when subscription streams go live and end, besides the metrics. */
  observer?: StreamObserver;
  /** The modules to run (default: the registry, src/modules/index.ts). */
  modules?: readonly ParleyModule[];
  /** Spans of GraphQL operations go to this tracer (src/app/tracing.ts); unset: none are made. */
  tracer?: Tracer;
}

/**
 * The composition root: opens the database (running migrations) and Redis (or the embedded
 * fallbacks), builds every module of the registry in order, the schema and both transports, and
 * serves HTTP and WebSocket on one port at `/graphql`. It knows no feature by name.
 *
 * @throws when the database or Redis cannot be reached at start-up, or a module fails to build.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<ParleyServer> {
  const modules = options.modules ?? registry;
  const log = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const database = await openDatabase(config, log, {
    entities: modules.flatMap((m) => m.entities ?? []),
    onQuery: () => metrics.dbQueries.inc(),
  });
  const closers: Array<() => Promise<unknown>> = [() => database.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => log.error({ err }, 'closing failed'));
  };

  try {
    const messaging = await openMessaging(config, log, metrics.pubsubLag);
    closers.push(() => messaging.close());
    const container = new Container();
    const sockets = new SessionSockets();
    const context: ModuleContext = {
      config,
      db: database.db,
      bus: messaging.bus,
      redis: messaging.redis,
      log,
      metrics,
      streams: observeAll([metricsStreamObserver(metrics), ...(options.observer ? [options.observer] : [])]),
      sockets,
      container,
    };
    const instances: ModuleInstance[] = [];
    for (const module of modules) {
      const instance = await module.build(context);
      for (const provided of instance.provides) container.add(provided);
      instances.push(instance);
    }
    const authenticator = onlyAuthenticator(instances);

    const schema = await buildParleySchema(modules);
    const guard = onlyGuard(instances)?.(schema) ?? noGuard;
    const formatError = createErrorFormatter(log, (code) => metrics.errors.inc({ code }));
    addScrapedGauges(metrics, {
      pool: () => poolStats(database.dataSource),
      redisQueue: () => (messaging.redis ? commandQueueLength(messaging.redis) : null),
      topics: () => messaging.bus.topicCount(),
    });
    const httpServer = createServer();
    const health = instances.flatMap((i) => Object.entries(i.health ?? {}));
    const readiness = async () => {
      const failing: string[] = [];
      await database.dataSource.query('SELECT 1').catch(() => failing.push('database'));
      failing.push(...(await messaging.failing()));
      for (const [name, check] of health) if (!(await check().catch(() => false))) failing.push(name);
      return failing;
    };
    // One compiled-operation cache for both transports.
    const compiled = createCompiledExecutor(schema);
    const executor = options.tracer ? traceExecutor(compiled, options.tracer) : compiled;
    const createContext = createContextFactory({ container });
    const origins = createOriginPolicy(config.corsOrigins);
    const { handler, apollo } = await createHttpHandler({
      schema,
      executor,
      authenticator,
      createContext,
      metrics,
      formatError,
      readiness,
      guard,
      maxBodyBytes: config.limits.maxRequestBytes,
      webDir: config.webDir,
      origins,
      explorer: config.explorer,
      log,
      // APQ registered on one instance is known on all of them (a day, as Apollo's default cache).
      persistedQueries: messaging.redis
        ? { cache: new RedisKeyValueCache(messaging.redis, `${config.redisPrefix}apq:`), ttl: 86_400 }
        : null,
    });
    httpServer.on('request', handler);
    const opened = instances.filter((i) => i.socketOpened !== undefined);
    const closed = instances.filter((i) => i.socketClosed !== undefined);
    const ws = createWebSocketServer({
      schema,
      executor,
      viewerIndependent: modules.flatMap((m) => m.viewerIndependent ?? []),
      httpServer,
      authenticator,
      createContext,
      socketOpened: async (viewer: SocketViewer) => {
        for (const instance of opened) await instance.socketOpened!(viewer);
      },
      socketClosed: (viewer: SocketViewer) => {
        for (const instance of closed) instance.socketClosed!(viewer);
      },
      metrics,
      formatError,
      origins,
      sockets,
      log,
      keepAliveMs: config.wsKeepAliveMs,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      guard,
      maxPayloadBytes: config.limits.maxRequestBytes,
    });
    let modulesStopped: Promise<void> | null = null;
    const stopModules = () =>
      (modulesStopped ??= (async () => {
        for (const instance of [...instances].reverse()) {
          await instance.stop?.().catch((err: unknown) => log.error({ err }, 'stopping a module failed'));
        }
      })());
    closers.push(stopModules);
    for (const instance of instances) await instance.start?.();

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, resolve);
    });
    const port = (httpServer.address() as AddressInfo).port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    log.info(
      {
        port,
        database: database.embedded ? 'embedded PGlite' : 'PostgreSQL',
        pubsub: messaging.redis ? 'Redis' : 'in-process',
      },
      'Parley is listening',
    );

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
          // Modules first (presence: this instance's users go OFFLINE in one batch), then sockets.
          await stopModules();
          await ws.dispose();
          await closeHttpServer(httpServer);
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

/** The guard builder of the one module that gives one, if any. @throws Error when several do (a wiring bug). */
function onlyGuard(instances: readonly ModuleInstance[]): ModuleInstance['guard'] {
  const found = instances.flatMap((i) => (i.guard ? [i.guard] : []));
  if (found.length > 1) throw new Error(`at most one module may provide a guard (found ${found.length})`);
  return found[0];
}

/** The one module's authenticator. @throws Error unless exactly one module provides one (a wiring bug). */
function onlyAuthenticator(instances: readonly ModuleInstance[]): Authenticator {
  const found = instances.flatMap((i) => (i.authenticator ? [i.authenticator] : []));
  if (found.length !== 1) throw new Error(`exactly one module must provide an authenticator (found ${found.length})`);
  return found[0];
}
