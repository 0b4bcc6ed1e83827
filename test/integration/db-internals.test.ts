import { Socket } from 'node:net';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/config';
import { openDatabase, type Database } from '../../src/db/data-source';
import { socketOf } from '../../src/db/pipeline';
import { poolOf } from '../../src/db/prepared';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * The places where src/db reaches into pg and TypeORM beyond their typings. Each test fails when
 * the library changes under that reach, before the hot path silently breaks.
 */
describe('library internals reached by src/db', () => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const config = loadConfig({
      DATABASE_URL: testDb.url,
      DB_PIPELINE_CONNECTIONS: '1',
      JWT_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'silent',
    });
    database = await openDatabase(config, createLogger('silent'));
  });

  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  it("TypeORM's PostgresDriver keeps its node-postgres Pool in `master`", async () => {
    const pool = poolOf(database.dataSource);
    expect(pool).toBeInstanceOf(Pool);
    const { rows } = await pool.query<{ n: number }>('SELECT 41 + 1 AS n');
    expect(rows).toEqual([{ n: 42 }]);
  });

  it("node-postgres keeps a connected client's socket in `connection.stream`, and it corks", async () => {
    const client = new Client({ connectionString: testDb.url });
    await client.connect();
    try {
      const socket = socketOf(client);
      expect(socket).toBeInstanceOf(Socket);
      socket!.cork();
      const answer = client.query<{ n: number }>('SELECT 7 AS n');
      socket!.uncork();
      expect((await answer).rows).toEqual([{ n: 7 }]);
    } finally {
      await client.end();
    }
  });
});
