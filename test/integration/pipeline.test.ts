import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { CallbackQueryClient } from '../../src/db/callback-client';
import { PipelinedConnections } from '../../src/db/pipeline';
import { createLogger } from '../../src/shared/logger';
import { TEST_DATABASE_URL } from '../support/env';
import { eventually } from '../support/wait';

/**
 * The pipelined connections that carry sends and history pages, against the real PostgreSQL:
 * many statements in flight on each connection must each get their own answer, one failing must
 * not touch the others, and a connection PostgreSQL drops must come back.
 */
describe('PipelinedConnections', () => {
  let connections: PipelinedConnections;
  /** Names this test's connections in pg_stat_activity. */
  let applicationName: string;

  beforeEach(async () => {
    applicationName = `parley_pipeline_${randomBytes(4).toString('hex')}`;
    connections = new PipelinedConnections(
      { connectionString: TEST_DATABASE_URL, application_name: applicationName },
      2,
      createLogger('silent'),
    );
    await connections.open();
  });

  afterEach(() => connections.close());

  it('answers each of 300 concurrent statements with its own rows, named and unnamed alike', async () => {
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        connections.query<{ n: number; s: string }>(
          i % 2
            ? { name: 'parley_pipeline_test_echo', text: 'SELECT $1::int AS n, $2::text AS s', values: [i, `v${i}`] }
            : { text: 'SELECT $1::int AS n, $2::text AS s', values: [i, `v${i}`] },
        ),
      ),
    );
    expect(answers.map((a) => a.rows)).toEqual(Array.from({ length: 300 }, (_, i) => [{ n: i, s: `v${i}` }]));
  });

  it('fails only the statement that failed; those sent before and after it on the same connection succeed', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        connections.query<{ n: number }>({ text: 'SELECT 10 / $1::int AS n', values: [i === 7 ? 0 : 1] }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')),
    );
    expect((results[7] as PromiseRejectedResult).reason).toMatchObject({ code: '22012' });
    expect((results[8] as PromiseFulfilledResult<{ rows: Array<{ n: number }> }>).value.rows).toEqual([{ n: 10 }]);
  });

  it('opens a connection again after PostgreSQL terminated it, and statements succeed on it', async () => {
    const before = await backendPids();
    expect(before).toHaveLength(2);
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);
    } finally {
      await admin.end();
    }
    const { value: after } = await eventually(async () => {
      const pids = await backendPids();
      return pids.length === 2 && pids.every((p) => !before.includes(p)) ? pids : null;
    });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        connections.query<{ n: number }>({ text: 'SELECT $1::int AS n', values: [i] }),
      ),
    );
    expect(answers.map((a) => a.rows[0].n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(after).toHaveLength(2);
  });

  it('rejects statements once closed, without sending them', async () => {
    await connections.close();
    await expect(connections.query({ text: 'SELECT 1', values: [] })).rejects.toThrow('no database connection');
  });

  /** Backend pids of this test's pipelined connections, as PostgreSQL lists them. */
  async function backendPids(): Promise<number[]> {
    const client = new Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`,
        [applicationName],
      );
      return rows.map((r) => r.pid);
    } finally {
      await client.end();
    }
  }
});

/**
 * The pool's client class (TypeORM's promise-form queries run through the callback form): what a
 * caller of the promise form sees must be node-postgres's own answers and errors.
 */
describe('CallbackQueryClient', () => {
  const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 2, Client: CallbackQueryClient });
  afterAll(() => pool.end());

  it('answers the promise form with rows and rejects it with the DatabaseError and its code', async () => {
    const client = await pool.connect();
    try {
      expect(client).toBeInstanceOf(CallbackQueryClient);
      expect((await client.query<{ n: number }>('SELECT $1::int + 1 AS n', [41])).rows).toEqual([{ n: 42 }]);
      expect((await client.query<{ s: string }>({ text: 'SELECT $1::text AS s', values: ['x'] })).rows).toEqual([
        { s: 'x' },
      ]);
      await expect(client.query('SELECT * FROM parley_no_such_table')).rejects.toMatchObject({ code: '42P01' });
      // The callback form is node-postgres's own.
      const viaCallback = await new Promise<number>((resolve, reject) =>
        client.query<{ n: number }>('SELECT 7 AS n', (err, result) => (err ? reject(err) : resolve(result.rows[0].n))),
      );
      expect(viaCallback).toBe(7);
    } finally {
      client.release();
    }
  });
});
