import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamKind, StreamObserver } from './live-stream';

/**
 * prom-client defaults that list every handle or file descriptor of the process at each scrape
 * (`process._getActiveHandles()`, a read of /proc/self/fd): with 10,000 sockets open, a scrape
 * took 28 ms (62 at worst) with them and 1.4 ms without, during which no event is delivered.
 * `parley_ws_connections` counts the sockets.
 */
const PER_HANDLE_DEFAULTS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'process_open_fds',
];

/** The Prometheus metrics of one server (a registry each, so that two servers in one process stay apart). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_' });
  for (const name of PER_HANDLE_DEFAULTS) registry.removeSingleMetric(`parley_${name}`);
  return {
    registry,
    dbQueries: new Counter({
      name: 'parley_db_queries_total',
      help: 'SQL statements sent to PostgreSQL',
      registers: [registry],
    }),
    wsConnections: new Gauge({
      name: 'parley_ws_connections',
      help: 'Open authenticated WebSocket connections',
      registers: [registry],
    }),
    liveMessageStreams: new Gauge({
      name: 'parley_message_streams',
      help: 'messageAdded subscriptions set up (topics subscribed, starting positions read)',
      registers: [registry],
    }),
    messageStreamsStarted: new Counter({
      name: 'parley_message_streams_started_total',
      help: 'messageAdded subscriptions that completed set-up',
      registers: [registry],
    }),
    liveStateStreams: new Gauge({
      name: 'parley_state_streams',
      help: 'presenceChanged, typing, readReceipt and notificationAdded subscriptions set up (topics subscribed)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    wsRejected: new Counter({
      name: 'parley_ws_rejected_total',
      help: 'WebSocket connections refused or closed by the server: 403 (origin), 4403 (no_token, bad_token, revoked, expired) or terminated (slow_consumer), or closed 1013 (unavailable)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'parley_refusals_total',
      help: 'Operations and sockets refused by a limit (rate limits, GraphQL limits, caps), by limit and reason',
      labelNames: ['limit', 'reason'],
      registers: [registry],
    }),
    operations: new Counter({
      name: 'parley_graphql_operations_total',
      help: 'GraphQL operations started',
      labelNames: ['transport', 'type'],
      registers: [registry],
    }),
    // Named after Centrifugo's (centrifugo_node_*, centrifugo_client_*): what answers "is chat healthy?".
    operationDuration: new Histogram({
      name: 'parley_graphql_operation_duration_seconds',
      help: 'Execution time of queries and mutations, seconds, by transport, type and operation name (at most 100 names, then "other")',
      labelNames: ['transport', 'type', 'operation'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'parley_graphql_errors_total',
      help: 'GraphQL errors answered, by extensions.code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: 'parley_messages_sent_total',
      help: 'Messages stored by sendMessage on this instance',
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'parley_deliveries_total',
      help: 'messageAdded events handed to subscribers on this instance',
      registers: [registry],
    }),
    // Observed where the frame is handed to ws.send (src/ws/ws-socket.ts), for live events only.
    deliveryLatency: new Histogram({
      name: 'parley_delivery_latency_seconds',
      help: 'From a message being stored (its commit) to its live messageAdded frame being written to a WebSocket on this instance, seconds (replayed messages are not counted)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    pubsubLag: new Histogram({
      name: 'parley_pubsub_lag_seconds',
      help: "From an event being published to Redis by any instance (this one too) to this instance receiving it, seconds, by the hosts' wall clocks",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'parley_http_requests_total',
      help: 'HTTP requests answered, by status class (2xx, 4xx, 5xx)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}

/** Most distinct operation names kept as label values; the rest count as "other". */
const MAX_OPERATION_NAMES = 100;
const operationNames = new Set<string>();

/**
 * The `operation` label of an operation name: the name itself for the first
 * {@link MAX_OPERATION_NAMES} names seen (process-wide), "anonymous" without one, else "other",
 * so that clients sending ever new names cannot grow the series without bound.
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES || name.length > 64) return 'other';
  operationNames.add(name);
  return name;
}

/**
 * Adds gauges read at scrape time: `parley_db_pool_connections{state}` (total, idle, waiting
 * clients of node-postgres's pool), `parley_redis_command_queue` (commands ioredis has sent
 * or queued and not yet had answered) and `parley_pubsub_topics` (distinct topics, so Redis
 * channels, this instance listens on). A scrape costs a few property reads; no hot-path work.
 */
export function addScrapedGauges(
  metrics: Metrics,
  sources: {
    pool: () => { totalCount: number; idleCount: number; waitingCount: number } | null;
    redisQueue: () => number | null;
    topics: () => number;
  },
): void {
  new Gauge({
    name: 'parley_db_pool_connections',
    help: 'PostgreSQL pool clients by state: total, idle, waiting (callers queued for a client)',
    labelNames: ['state'] as const,
    registers: [metrics.registry],
    collect() {
      const pool = sources.pool();
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'parley_redis_command_queue',
    help: 'Redis commands sent or queued and not yet answered (ioredis), 0 without Redis',
    registers: [metrics.registry],
    collect() {
      this.set(sources.redisQueue() ?? 0);
    },
  });
  new Gauge({
    name: 'parley_pubsub_topics',
    help: 'Distinct pub/sub topics this instance listens on (one Redis channel each; in-process topics without Redis)',
    registers: [metrics.registry],
    collect() {
      this.set(sources.topics());
    },
  });
}

export type Metrics = ReturnType<typeof createMetrics>;

/** `parley_state_streams`'s `kind` label of each stream kind but messageAdded. */
const STATE_KIND: Record<Exclude<StreamKind, 'messageAdded'>, string> = {
  presenceChanged: 'presence',
  typing: 'typing',
  readReceipt: 'readReceipt',
  notificationAdded: 'notification',
};

/**
 * Counts live streams in the gauges (`parley_message_streams`, `parley_state_streams{kind}`) and
 * deliveries to streams (`parley_deliveries_total`); their latency is observed at the socket.
 */
export function metricsStreamObserver(metrics: Metrics): StreamObserver {
  return {
    ready(kind) {
      if (kind === 'messageAdded') {
        metrics.liveMessageStreams.inc();
        metrics.messageStreamsStarted.inc();
      } else metrics.liveStateStreams.labels(STATE_KIND[kind]).inc();
    },
    ended(kind) {
      if (kind === 'messageAdded') metrics.liveMessageStreams.dec();
      else metrics.liveStateStreams.labels(STATE_KIND[kind]).dec();
    },
    delivered() {
      metrics.deliveries.inc();
    },
  };
}
