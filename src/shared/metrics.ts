import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamKind, StreamObserver } from './live-stream';

/** The Prometheus metrics of one server (a registry each, so that two servers in one process stay apart). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_' });
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
      help: 'WebSocket connections refused or closed by the server: 4403 (no_token, bad_token, revoked, expired) or terminated (slow_consumer)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    operations: new Counter({
      name: 'parley_graphql_operations_total',
      help: 'GraphQL operations started',
      labelNames: ['transport', 'type'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** `parley_state_streams`'s `kind` label of each stream kind but messageAdded. */
const STATE_KIND: Record<Exclude<StreamKind, 'messageAdded'>, string> = {
  presenceChanged: 'presence',
  typing: 'typing',
  readReceipt: 'readReceipt',
  notificationAdded: 'notification',
};

/** Counts live streams in the gauges (`parley_message_streams`, `parley_state_streams{kind}`). */
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
  };
}
