import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** The bare HTTP server running in this process (one at a time), and what it holds open. */
let bare: { server: Server; close: () => Promise<void> } | null = null;

/**
 * Serves POSTs of JSON on a free port: `answer` gets the parsed body and the request's headers and
 * resolves with the JSON to send back (a rejection answers 500 with its message).
 */
async function serveJson(
  answer: (body: unknown, headers: IncomingHttpHeaders) => Promise<unknown>,
  close: () => Promise<void>,
): Promise<{ url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answer(JSON.parse(Buffer.concat(chunks).toString('utf8')), req.headers).then(
        (out) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(out));
        },
        (err: Error) => {
          res.statusCode = 500;
          res.end(JSON.stringify({ errors: [{ message: err.message }] }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  bare = { server, close };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export const handlers = {
  /**
   * Starts the bare page server, the end-to-end baseline of the history scenario: node:http
   * taking a POST whose JSON body is `{ conversationId, beforeSeq, limit }`, running the keyset
   * page through node-postgres (named, pool of `poolSize`) and answering `{ "data": rows }`. The
   * same path as a history page through Parley (client process, HTTP server, PostgreSQL, back)
   * without GraphQL, authentication, the membership check or the sender join.
   */
  startPageServer(p: { databaseUrl: string; poolSize: number }): Promise<{ url: string }> {
    const pool = new Pool({ connectionString: p.databaseUrl, max: p.poolSize });
    return serveJson(
      async (body) => {
        const q = body as { conversationId: string; beforeSeq: number; limit: number };
        const { rows } = await pool.query({
          name: 'baseline_page',
          text: BASELINE_HISTORY_PAGE,
          values: [q.conversationId, q.beforeSeq, q.limit],
        });
        return { data: rows };
      },
      () => pool.end(),
    );
  },

  /**
   * Starts the bare send server, the HTTP baseline of the send scenario (issue 17): node:http
   * taking the same POST the load client sends Parley (a GraphQL `sendMessage` request with a
   * bearer token), finding the sender by its token in a map (no JWT check), running the send
   * statement through `pipeline` pipelined node-postgres connections (as Parley's sends go) and
   * answering `{ data: { sendMessage: row } }`. Both sides pay for HTTP and JSON; the ratio is
   * Parley's own cost: GraphQL, authentication, limits, publishing.
   */
  async startSendServer(p: {
    databaseUrl: string;
    pipeline: number;
    senders: Array<{ token: string; senderId: string }>;
  }): Promise<{ url: string }> {
    const byToken = new Map(p.senders.map((s) => [`Bearer ${s.token}`, s.senderId]));
    const connections = new PipelinedConnections({ connectionString: p.databaseUrl }, p.pipeline, createLogger('warn'));
    await connections.open();
    return serveJson(
      async (body, headers) => {
        const senderId = byToken.get(headers.authorization ?? '');
        if (!senderId) throw new Error('unknown token');
        const { input } = (body as { variables: { input: { conversationId: string; body: string } } }).variables;
        const { rows } = await connections.query({
          name: 'baseline_send',
          text: BASELINE_INSERT_MESSAGE,
          values: [input.conversationId, senderId, input.body, null],
        });
        if (rows.length !== 1) throw new Error('not a participant');
        return { data: { sendMessage: rows[0] } };
      },
      () => connections.close(),
    );
  },

  /** Stops the bare server started last (page or send). */
  async stopBareServer(): Promise<void> {
    if (!bare) return;
    const { server, close } = bare;
    bare = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close();
  },

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
    const send = (
      query: (q: { name: string; text: string; values: unknown[] }) => Promise<{ rowCount: number | null }>,
    ) =>
      closedLoop(p, async (lane) => {
        const t = p.targets[lane % p.targets.length];
        const { rowCount } = await query({
          name: 'baseline_send',
          text: BASELINE_INSERT_MESSAGE,
          values: [t.conversationId, t.senderId, `m:${wallNow()}`, null],
        });
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
        const { rowCount } = await pool.query({
          name: 'baseline_page',
          text: BASELINE_HISTORY_PAGE,
          values: [p.conversationId, p.beforeSeq, p.limit],
        });
        if (!rowCount) throw new Error('empty page');
      }),
    );
  },
};

serveTasks(handlers);
