import { Pool } from 'pg';
import { PipelinedConnections } from '../../src/db/pipeline';
import { createLogger } from '../../src/shared/logger';
import { closedLoop } from '../lib/load';
import { BASELINE_HISTORY_PAGE, BASELINE_INSERT_MESSAGE } from '../lib/sql';
import { wallNow } from '../lib/stats';
import { serveTasks } from '../lib/worker-host';

/**
 * The node-postgres baselines: the database work of a send, and of a history page, with the
 * same concurrency as the Parley load, from a process of its own. Both run as named prepared
 * statements (parsed and planned once per connection), as Parley's own send and history
 * statements do: the baseline is the best this driver does for the work, not a handicapped copy.
 * For the same reason the send baseline also runs pipelined (node-postgres pipeline mode over
 * `pipeline` connections, written once per event-loop turn, as Parley's DB_PIPELINE_CONNECTIONS
 * carry its sends), beside the pool of connections used one query at a time.
 */

async function withPool<T>(databaseUrl: string, size: number, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: databaseUrl, max: size });
  try {
    // Open the connections before measuring, as Parley's pool already has them.
    const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
    for (const c of clients) c.release();
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export const handlers = {
  /**
   * Closed-loop sends: lane i bumps the counter of and inserts into target i (mod targets),
   * through a pool of `poolSize` connections, or with `pipeline` > 0 through that many pipelined
   * connections.
   */
  async sendLoop(p: {
    databaseUrl: string;
    poolSize: number;
    pipeline?: number;
    concurrency: number;
    warmupMs: number;
    durationMs: number;
    targets: Array<{ conversationId: string; senderId: string }>;
  }) {
    const send = (query: (q: { name: string; text: string; values: unknown[] }) => Promise<{ rowCount: number | null }>) =>
      closedLoop(p, async (lane) => {
        const t = p.targets[lane % p.targets.length];
        const { rowCount } = await query({ name: 'baseline_send', text: BASELINE_INSERT_MESSAGE, values: [t.conversationId, t.senderId, `m:${wallNow()}`, null] });
        if (rowCount !== 1) throw new Error('insert matched no conversation');
      });
    if (!p.pipeline) return withPool(p.databaseUrl, p.poolSize, (pool) => send((q) => pool.query(q)));
    const connections = new PipelinedConnections({ connectionString: p.databaseUrl }, p.pipeline, createLogger('warn'));
    await connections.open();
    try {
      return await send((q) => connections.query(q));
    } finally {
      await connections.close();
    }
  },

  /** Closed-loop history pages of `limit` rows before `beforeSeq`. */
  pageLoop(p: {
    databaseUrl: string;
    poolSize: number;
    concurrency: number;
    warmupMs: number;
    durationMs: number;
    conversationId: string;
    beforeSeq: number;
    limit: number;
  }) {
    return withPool(p.databaseUrl, p.poolSize, (pool) =>
      closedLoop(p, async () => {
        const { rowCount } = await pool.query({ name: 'baseline_page', text: BASELINE_HISTORY_PAGE, values: [p.conversationId, p.beforeSeq, p.limit] });
        if (!rowCount) throw new Error('empty page');
      }),
    );
  },
};

serveTasks(handlers);
