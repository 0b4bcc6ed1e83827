import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A running embedded PostgreSQL (PGlite) reachable over the PostgreSQL wire protocol. */
export interface EmbeddedPostgres {
  /** Loopback host and port of the socket server. */
  host: string;
  port: number;
  /** Stops the socket server and closes the database (flushes it to disk). */
  close(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` and serves it on an ephemeral loopback port, so that the `pg`
 * driver (and TypeORM's postgres driver) talk to it exactly as to a real server. PGlite has one
 * session; pglite-socket's multiplexer keeps a transaction's statements together, so up to
 * `maxConnections` pooled clients may be open at once and transactions still run one at a time.
 *
 * @param dataDir - folder for the database files (created if missing); survives restarts.
 * @param maxConnections - socket connections accepted at once; the pg pool must not exceed it.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  let port = 0;
  server.addEventListener('listening', (event) => {
    port = ((event as CustomEvent).detail as AddressInfo).port;
  });
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
