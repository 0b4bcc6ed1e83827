import { Client, type ClientConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { Logger } from '../shared/logger';

/** A query as node-postgres takes it: `{ name?, text, values }`. */
export interface PipelinedQuery {
  name?: string;
  text: string;
  values: unknown[];
}

/** How long to wait before opening a connection again after one failed, ms. */
const RECONNECT_DELAY_MS = 250;

/**
 * A few PostgreSQL connections in node-postgres's pipeline mode (`new Client({ pipeline: true })`,
 * node-postgres.com, "Pipelining"), shared by every request of the instance, for single
 * statements that are their own transaction (a send, a history page, a replay).
 *
 * - Each connection sends a query as soon as it is given one, without waiting for the answer to
 *   the one before; PostgreSQL runs them in order and answers each (with its own Sync, so one
 *   query's error does not touch the others: "Pipeline Mode" in the libpq chapter of the
 *   PostgreSQL manual).
 * - Queries given in one turn of the event loop are written together: a connection's socket is
 *   corked at its first query of the turn and uncorked in `setImmediate`, so N queries cost one
 *   `writev` instead of N. On a machine where PostgreSQL shares the cores, each write wakes a
 *   backend; a pool of connections used one query at a time pays that once per query.
 * - Queries are spread round-robin over the connections that are up. A connection that fails
 *   (PostgreSQL restarted, backend terminated) fails its queries in flight, as a pooled connection
 *   would fail its one query, and is opened again after {@link RECONNECT_DELAY_MS}.
 *
 * Not for transactions (BEGIN ... COMMIT on a shared connection would take other requests'
 * statements in), nor for long statements: the queries behind one on its connection wait for it.
 */
export class PipelinedConnections {
  private readonly clients: Array<Client | null>;
  private next = 0;
  private closed = false;
  private readonly corked = new Set<Client>();
  private flushScheduled = false;

  /**
   * @param config - node-postgres connection settings (`connectionString`, ...).
   * @param size - connections to keep open (at least 1).
   */
  constructor(
    private readonly config: ClientConfig,
    size: number,
    private readonly log: Logger,
  ) {
    this.clients = Array.from({ length: Math.max(1, size) }, () => null);
  }

  /**
   * Opens every connection.
   * @throws the driver's error when one cannot be opened.
   */
  async open(): Promise<void> {
    await Promise.all(this.clients.map((_, i) => this.connect(i)));
  }

  /**
   * Sends one statement on the next connection that is up.
   * @throws the driver's error (node-postgres `DatabaseError` with `code`), or
   *   `Error('no database connection')` when none is up.
   */
  query<T extends QueryResultRow>(query: PipelinedQuery): Promise<QueryResult<T>> {
    const client = this.pick();
    if (!client) return Promise.reject(new Error('no database connection'));
    this.cork(client);
    // Through a callback, not node-postgres's promise form, whose results outlive young-generation
    // collections (bench/README.md, "Findings"). The error's stack is the socket read's.
    return new Promise((resolve, reject) => {
      client.query<T>(query, (err: Error | null, result: QueryResult<T>) => (err ? reject(err) : resolve(result)));
    });
  }

  /** Ends every connection (after the queries already sent are answered). */
  async close(): Promise<void> {
    this.closed = true;
    this.uncorkAll();
    const open = this.clients.filter((c): c is Client => c !== null);
    this.clients.fill(null);
    await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  }

  private pick(): Client | null {
    for (let tries = 0; tries < this.clients.length; tries++) {
      const client = this.clients[this.next];
      this.next = (this.next + 1) % this.clients.length;
      if (client) return client;
    }
    return null;
  }

  private cork(client: Client): void {
    if (this.corked.has(client)) return;
    const stream = socketOf(client);
    if (!stream) return;
    stream.cork();
    this.corked.add(client);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.uncorkAll());
    }
  }

  private uncorkAll(): void {
    this.flushScheduled = false;
    for (const client of this.corked) socketOf(client)?.uncork();
    this.corked.clear();
  }

  private async connect(i: number): Promise<void> {
    const client = new Client({ ...this.config, pipeline: true });
    const lost = (err?: Error) => {
      if (this.clients[i] !== client) return;
      this.clients[i] = null;
      this.corked.delete(client);
      if (this.closed) return;
      this.log.warn({ err, connection: i }, 'pipelined database connection lost; reopening');
      setTimeout(() => this.reopen(i), RECONNECT_DELAY_MS).unref();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.clients[i] = client;
  }

  private reopen(i: number): void {
    if (this.closed || this.clients[i]) return;
    this.connect(i).catch((err: Error) => {
      this.log.warn({ err, connection: i }, 'reopening a pipelined database connection failed');
      if (!this.closed) setTimeout(() => this.reopen(i), RECONNECT_DELAY_MS).unref();
    });
  }
}

/**
 * The socket of a node-postgres client (`client.connection.stream`, not in its typings).
 * test/integration/db-internals.test.ts fails if node-postgres moves it.
 */
export function socketOf(client: Client): { cork(): void; uncork(): void } | undefined {
  return (client as unknown as { connection?: { stream?: { cork(): void; uncork(): void } } }).connection?.stream;
}
