import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import { BENCH_ADMIN_DATABASE_URL, BENCH_REDIS_URL } from './env';
import { databaseCpuSeconds } from './machine';
import { ParleyProcess, type ParleyLaunch } from './parley-process';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: BENCH_ADMIN_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * What one scenario runs against: a fresh PostgreSQL database (created here, dropped by
 * {@link dispose}), a Redis key space of its own (a random REDIS_PREFIX, deleted by dispose), one
 * JWT secret shared by its Parley instances, and those instances as child processes.
 */
export class BenchStack {
  /** The instances running now. */
  readonly instances: ParleyProcess[] = [];
  /** Every instance started, also the stopped ones (their CPU profiles are read after the run). */
  readonly started: ParleyProcess[] = [];
  readonly jwtSecret = randomBytes(32).toString('hex');
  readonly redisPrefix: string;
  readonly redisUrl = BENCH_REDIS_URL;
  private pgPool: Pool | null = null;
  private redisClient: Redis | null = null;

  private constructor(
    readonly scenario: string,
    private readonly dbName: string,
    readonly databaseUrl: string,
    private readonly launch: ParleyLaunch,
  ) {
    this.redisPrefix = `parley-bench:${dbName}:`;
  }

  /** Creates the scenario's database (empty: the first instance runs the migrations). */
  static async create(scenario: string, launch: ParleyLaunch): Promise<BenchStack> {
    const dbName = `parley_bench_${scenario}_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${dbName}`);
    const url = new URL(BENCH_ADMIN_DATABASE_URL);
    url.pathname = `/${dbName}`;
    return new BenchStack(scenario, dbName, url.toString(), launch);
  }

  /** The environment of an instance of this stack. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      REDIS_PREFIX: this.redisPrefix,
      JWT_SECRET: this.jwtSecret,
      LOG_LEVEL: 'warn',
      ...overrides,
    };
  }

  /**
   * Starts one more Parley instance (`name` is A, B, ...).
   * @param options.inspect - with `--inspect`, for forcing GCs (connections scenario).
   * @param options.root - another checkout whose build runs instead of this one (`bench:compare`).
   */
  async start(
    name: string,
    overrides: Record<string, string> = {},
    options: { inspect?: boolean; root?: string } = {},
  ): Promise<ParleyProcess> {
    const instance = await ParleyProcess.start(name, this.env(overrides), this.launch, options);
    this.instances.push(instance);
    this.started.push(instance);
    return instance;
  }

  /**
   * Starts the textbook peer (bench/peers/textbook) on this stack's database, Redis and JWT secret,
   * after a Parley instance has run the migrations. Stopped with the instances.
   * @param options.inspect - with `--inspect` (memory after GC, connections scenario).
   */
  async startPeer(
    name: string,
    overrides: Record<string, string> = {},
    options: { inspect?: boolean } = {},
  ): Promise<ParleyProcess> {
    const peer = await ParleyProcess.start(
      name,
      this.env({ REDIS_PREFIX: `${this.redisPrefix}peer:`, ...overrides }),
      { ...this.launch, profileName: `${this.launch.profileName}-peer` },
      { ...options, entry: join(__dirname, '..', 'peers', 'textbook', 'server.ts') },
    );
    this.instances.push(peer);
    this.started.push(peer);
    return peer;
  }

  /** CPU time (s) of the PostgreSQL backends serving this stack's database now (see {@link databaseCpuSeconds}). */
  databaseCpuSeconds(): number {
    return databaseCpuSeconds(this.dbName);
  }

  /** A small pool on the bench database, for seeding and inspection (not for measured work). */
  pool(): Pool {
    this.pgPool ??= new Pool({ connectionString: this.databaseUrl, max: 4 });
    return this.pgPool;
  }

  /** A Redis connection for seeding sessions. */
  redis(): Redis {
    this.redisClient ??= new Redis(this.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    return this.redisClient;
  }

  /** Stops the instances (gracefully, so that profiles get written). */
  async stopInstances(): Promise<void> {
    await Promise.all(this.instances.splice(0).map((i) => i.stop()));
  }

  /** Stops everything, deletes the Redis keys of the prefix and drops the database. */
  async dispose(): Promise<void> {
    await this.stopInstances();
    await this.pgPool?.end().catch(() => undefined);
    const redis = this.redis();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    await admin(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
  }
}
