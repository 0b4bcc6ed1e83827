import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/config';
import { startServer, type ParleyServer } from '../../src/app/server';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, type TestDatabase } from './database';
import { TEST_REDIS_URL } from './env';

/** One JWT secret for every test server, so a token from one instance works on the other. */
const JWT_SECRET = randomBytes(32).toString('hex');

/**
 * Real Parley instances on free ports sharing one fresh PostgreSQL database and one Redis key
 * space (a random REDIS_PREFIX), as a multi-instance deployment does.
 */
export class TestCluster {
  readonly servers: ParleyServer[] = [];
  private constructor(
    readonly db: TestDatabase,
    readonly redisPrefix: string,
  ) {}

  static async create(): Promise<TestCluster> {
    return new TestCluster(await createTestDatabase(), `parley-test:${randomBytes(4).toString('hex')}:`);
  }

  /** The environment an instance of this cluster is started with (also for child processes). */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: this.db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.redisPrefix,
      JWT_SECRET,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DB_POOL_SIZE: '5',
      DB_PIPELINE_CONNECTIONS: '2',
      ...overrides,
    };
  }

  /** Starts one more instance. */
  async start(overrides: Record<string, string> = {}): Promise<ParleyServer> {
    const config = loadConfig(this.env(overrides));
    const server = await startServer(config, { logger: createLogger(config.logLevel) });
    this.servers.push(server);
    return server;
  }

  /** Stops every instance and drops the database. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.stop()));
    await this.db.drop();
  }
}
