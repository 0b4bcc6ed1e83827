import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../shared/metrics';

/** The notification metrics, registered in the server's registry. */
export function createNotifyMetrics(metrics: Metrics, depth: () => Promise<number>) {
  return {
    queueDepth: new Gauge({
      name: 'parley_notify_queue_depth',
      help: 'Notification jobs waiting, delayed or running (the whole shared queue on Redis)',
      registers: [metrics.registry],
      async collect() {
        this.set(await depth().catch(() => NaN));
      },
    }),
    commitToStored: new Histogram({
      name: 'parley_notify_commit_to_stored_seconds',
      help: 'Time from a message commit to its notifications being stored',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    }),
    parked: new Counter({
      name: 'parley_notify_jobs_parked_total',
      help: 'Notification jobs the queue on Redis refused (an outage), kept in PostgreSQL until it takes them',
      registers: [metrics.registry],
    }),
    deliveries: new Counter({
      name: 'parley_notify_deliveries_total',
      help: 'External delivery attempts by channel (webhook, webpush, log) and outcome (delivered, retried, failed, gone, skipped_read)',
      labelNames: ['channel', 'outcome'] as const,
      registers: [metrics.registry],
    }),
  };
}

export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>;
