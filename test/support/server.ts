import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { startServer, type ParleyServer, type StartOptions } from '../../src/app/server';
import { registerStreamLog, StreamLog } from './live';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, type TestDatabase } from './database';
import { TEST_REDIS_URL } from './env';
import { eventually } from './wait';

/** One JWT secret for every test server, so a token from one instance works on the other. */
const JWT_SECRET = randomBytes(32).toString('hex');

/**
 * Rate limits and connection caps high enough that no test is refused by them unless it sets its
 * own (test/integration/limits.test.ts); the GraphQL limits stay at their defaults, so every test
 * also shows that the defaults serve ordinary operations.
 */
export const GENEROUS_LIMITS: Env = {
  RATE_LIMIT_SEND: '1000000/1',
  RATE_LIMIT_SEND_BURST: '0',
  RATE_LIMIT_LOGIN_IP: '1000000/1',
  RATE_LIMIT_REGISTER_IP: '1000000/1',
  RATE_LIMIT_TYPING: '1000000/1',
  RATE_LIMIT_READ_RECEIPTS: '1000000/1',
  RATE_LIMIT_PRESENCE: '1000000/1',
  LOGIN_LOCKOUT_FAILURES: '1000000',
  WS_MAX_CONNECTIONS_PER_USER: '1000000',
  WS_MAX_CONNECTIONS_PER_IP: '1000000',
};

/** Environment variables of an instance. */
export type Env = Record<string, string>;

/** Something a test opened and must close: a socket, a subscription, a child process. */
export type Disposable = { dispose: () => unknown };

/** An instance in this process (a {@link ParleyServer}) or in a child process (no `metrics`). */
export type Instance = Pick<ParleyServer, 'url' | 'wsUrl'> & Partial<Pick<ParleyServer, 'metrics'>>;

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A Parley instance in a child process (so that it can be killed with SIGKILL). */
export interface ChildInstance {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** SIGTERM, as a process manager stops it. Resolves with the exit code once the process is gone. */
  terminate(): Promise<number | null>;
  /** SIGKILL: no disconnect handler, no shutdown, nothing. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** {@link kill}, so that a test can hand the instance to `keep`. */
  dispose(): Promise<void>;
}

/**
 * Starts `src/main.ts` (ts-node, transpile only) with `env` and waits for `/readyz`.
 * @param env - the complete environment of the instance (e.g. `cluster.env({ PORT })`); PORT must be fixed.
 */
export async function startChild(env: Env, timeoutMs = 60_000): Promise<ChildInstance> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: `${__dirname}/../..`,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const base = `127.0.0.1:${env.PORT}`;
  const ready = async () => {
    if (gone()) throw new Error(`child instance exited: ${stderr}`);
    return fetch(`http://${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  };
  try {
    await eventually(ready, timeoutMs, 'child instance ready', 100);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
  }
  const signal = (name: NodeJS.Signals) => {
    if (!gone()) child.kill(name);
    return exited;
  };
  const kill = () => signal('SIGKILL').then(() => undefined);
  return {
    url: `http://${base}/graphql`,
    wsUrl: `ws://${base}/graphql`,
    process: child,
    terminate: () => signal('SIGTERM'),
    kill,
    dispose: kill,
  };
}

/** How the instances of a {@link TestCluster} store their data. */
export interface ClusterOptions {
  /**
   * The embedded default: no DATABASE_URL, REDIS_URL or JWT_SECRET (PGlite and the JWT secret in
   * a DATA_DIR of the cluster's own, in-process pub/sub). Its instances run in child processes
   * only: PGlite's dynamic imports do not load inside jest's module sandbox.
   */
  embedded?: boolean;
}

/**
 * Real Parley instances on free ports sharing one fresh PostgreSQL database and one Redis key
 * space (a random REDIS_PREFIX), as a multi-instance deployment does; or, `embedded`, instances
 * (one at a time) sharing one DATA_DIR.
 */
export class TestCluster {
  readonly servers: ParleyServer[] = [];
  readonly children: ChildInstance[] = [];
  private constructor(
    private readonly database: TestDatabase | null,
    readonly redisPrefix: string,
    readonly dataDir: string | null,
  ) {}

  static async create(options: ClusterOptions = {}): Promise<TestCluster> {
    const prefix = `parley-test:${randomBytes(4).toString('hex')}:`;
    if (options.embedded) return new TestCluster(null, prefix, await mkdtemp(join(tmpdir(), 'parley-embedded-')));
    return new TestCluster(await createTestDatabase(), prefix, null);
  }

  /** The cluster's PostgreSQL database (not on an embedded cluster). */
  get db(): TestDatabase {
    if (!this.database) throw new Error('an embedded cluster has no PostgreSQL database');
    return this.database;
  }

  /** The environment an instance of this cluster is started with (also for child processes). */
  env(overrides: Env = {}): Env {
    const common = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...GENEROUS_LIMITS,
    };
    if (this.dataDir) return { ...common, DATA_DIR: this.dataDir, ...overrides };
    return {
      ...common,
      DATABASE_URL: this.db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.redisPrefix,
      JWT_SECRET,
      DB_POOL_SIZE: '5',
      DB_PIPELINE_CONNECTIONS: '2',
      ...overrides,
    };
  }

  /**
   * Starts one more instance in this process.
   * @param options.modules - run these modules instead of the registry's.
   * @param options.logger - log here instead of stdout at LOG_LEVEL.
   */
  async start(overrides: Env = {}, options: Pick<StartOptions, 'modules' | 'logger'> = {}): Promise<ParleyServer> {
    if (this.dataDir) throw new Error('an embedded cluster starts child processes only: use startChild');
    const config = loadConfig(this.env(overrides));
    const streams = new StreamLog();
    const server = await startServer(config, { logger: createLogger(config.logLevel), observer: streams, ...options });
    registerStreamLog(server, streams);
    this.servers.push(server);
    return server;
  }

  /** Starts one more instance in a child process, on a free port. */
  async startChild(overrides: Env = {}): Promise<ChildInstance> {
    const child = await startChild(this.env({ ...overrides, PORT: String(await freePort()) }));
    this.children.push(child);
    return child;
  }

  /** {@link stop}, so that a test can hand a cluster of its own to `keep`. */
  dispose(): Promise<void> {
    return this.stop();
  }

  /** Stops every instance (children with SIGTERM), then drops the database or the DATA_DIR. */
  async stop(): Promise<void> {
    await Promise.all([
      ...this.servers.splice(0).map((s) => s.stop()),
      ...this.children.splice(0).map((c) => c.terminate()),
    ]);
    if (this.database) await this.database.drop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** What {@link useInstances} hands a test file. */
export interface Instances<S extends Instance> {
  /** The cluster: start more instances, read its environment, database or Redis prefix. */
  readonly cluster: TestCluster;
  /** The instances started before the tests. */
  readonly servers: S[];
  /** `servers[0]` */
  readonly a: S;
  /** `servers[1]` */
  readonly b: S;
  /**
   * Hands over something a test opened: it is disposed after that test. A function property (it
   * uses no `this`), so that a test file may take it out: `const { keep } = setup`.
   */
  readonly keep: <T extends Disposable>(d: T) => T;
  /** Disposes what was kept so far (what `afterEach` does). */
  readonly disposeAll: () => Promise<void>;
}

/**
 * Registers the jest hooks of a test file that runs against `count` instances (0 or more) of one
 * cluster: in this process sharing PostgreSQL and Redis, or `embedded` in child processes. Read
 * `a`, `b`, `servers` and `cluster` in a later `beforeAll` or in the tests; what is handed to
 * `keep` is disposed after each test, and the cluster is stopped after the file.
 * @param overrides - environment of the instances started here.
 */
export function useInstances(count: number, overrides?: Env): Instances<ParleyServer>;
export function useInstances(
  count: number,
  overrides: Env,
  options: ClusterOptions & { embedded: true },
): Instances<ChildInstance>;
export function useInstances(count: number, overrides: Env = {}, options: ClusterOptions = {}): Instances<Instance> {
  const disposables: Disposable[] = [];
  let cluster: TestCluster | null = null;
  const setup: Instances<Instance> = {
    get cluster() {
      if (!cluster) throw new Error('the cluster is started in beforeAll: read it in a later hook or in a test');
      return cluster;
    },
    servers: [],
    get a() {
      return setup.servers[0];
    },
    get b() {
      return setup.servers[1];
    },
    keep: <T extends Disposable>(d: T): T => {
      disposables.push(d);
      return d;
    },
    disposeAll: async () => {
      await Promise.all(disposables.splice(0).map((d) => d.dispose()));
    },
  };
  beforeAll(async () => {
    cluster = await TestCluster.create(options);
    for (let i = 0; i < count; i++)
      setup.servers.push(options.embedded ? await cluster.startChild(overrides) : await cluster.start(overrides));
  }, 60_000);
  afterEach(() => setup.disposeAll());
  afterAll(async () => {
    await setup.disposeAll();
    await cluster?.stop();
  }, 30_000);
  return setup;
}

/** {@link useInstances} with two instances, A and B. */
export const useTwoInstances = (overrides: Env = {}) => useInstances(2, overrides);
