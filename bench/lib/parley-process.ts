import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { trackChild } from './children';
import { parseProm, type PromSamples } from './prom';
import { sleep } from './stats';

/**
 * The safety limits (README, "Limits") raised so that no benchmark load is refused: the bench
 * measures the limits' cost, not their refusals. A scenario's own `env` may still set any of them.
 * `BENCH_SAFETY=default` (or `--safety default`) leaves them out: the instances run the shipped limits.
 */
const BENCH_LIMITS: Record<string, string> = {
  RATE_LIMIT_SEND: '100000000/1',
  RATE_LIMIT_SEND_BURST: '0',
  RATE_LIMIT_LOGIN_IP: '100000000/1',
  RATE_LIMIT_REGISTER_IP: '100000000/1',
  RATE_LIMIT_TYPING: '100000000/1',
  RATE_LIMIT_READ_RECEIPTS: '100000000/1',
  RATE_LIMIT_PRESENCE: '100000000/1',
  LOGIN_LOCKOUT_FAILURES: '100000000',
  WS_MAX_CONNECTIONS_PER_USER: '100000000',
  WS_MAX_CONNECTIONS_PER_IP: '100000000',
  WS_MAX_SUBSCRIPTIONS: '100000000',
  GRAPHQL_MAX_COST: '100000000',
};
/** The repository root (bench/lib/../..). */
export const ROOT = join(__dirname, '..', '..');

/** Lines of server output echoed per instance before the rest is only counted. */
const ECHOED_LINES = 20;

/** How a Parley child process is run. */
export interface ParleyLaunch {
  /** `built`: node dist/src/main.js (after {@link ensureBuilt}); `ts-node`: src/main.ts through ts-node. */
  mode: 'built' | 'ts-node';
  /** Write a V8 CPU profile here when the process exits (`node --cpu-prof`); null for none. */
  profileDir: string | null;
  /** Profile file name prefix (scenario name). */
  profileName: string;
  /** NODE_ENV of the instances; null leaves it unset, as docker-compose.yml deploys Parley. */
  nodeEnv: string | null;
  /** `raised`: the safety limits set out of the load's way ({@link BENCH_LIMITS}); `default`: the shipped limits. */
  safety: 'raised' | 'default';
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One real Parley instance as a child process (`node dist/src/main.js`), configured only through
 * its environment, listening on 127.0.0.1.
 */
export class ParleyProcess {
  /** Output lines seen (warnings and errors at LOG_LEVEL=warn). */
  logLines = 0;
  /** The DevTools WebSocket of a process started with `inspect` (see {@link collectGarbage}). */
  inspectorUrl: string | null = null;
  private readonly tail: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    /** The CPU profile this process writes on exit, if profiling. */
    readonly profilePath: string | null,
  ) {}

  /** `http://127.0.0.1:<port>/graphql` */
  get url(): string {
    return `http://127.0.0.1:${this.port}/graphql`;
  }

  /** `ws://127.0.0.1:<port>/graphql` */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/graphql`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Starts an instance and waits until `/readyz` answers 200 (migrations done, Redis connected).
   * @param env - the instance's environment (PORT and HOST are added).
   * @param options.inspect - start with `--inspect` on a free port (to force GCs before reading memory).
   * @param options.entry - run this TypeScript file through ts-node instead of Parley (the textbook peer).
   * @param options.root - run the build of another checkout of Parley (its `dist/src/main.js`), for `bench:compare`.
   * @throws when the process exits or is not ready within 60 s; the error carries its last output.
   */
  static async start(
    name: string,
    env: Record<string, string>,
    launch: ParleyLaunch,
    options: { inspect?: boolean; entry?: string; root?: string } = {},
  ): Promise<ParleyProcess> {
    const port = await freePort();
    const args: string[] = [];
    if (options.inspect) args.push(`--inspect=127.0.0.1:${await freePort()}`);
    let profilePath: string | null = null;
    if (launch.profileDir) {
      const file = `parley-${launch.profileName}-${name}-${Date.now()}.cpuprofile`;
      profilePath = join(launch.profileDir, file);
      args.push('--cpu-prof', `--cpu-prof-dir=${launch.profileDir}`, `--cpu-prof-name=${file}`);
    }
    if (options.entry) args.push('-r', 'ts-node/register/transpile-only', options.entry);
    else if (options.root) args.push(join(options.root, 'dist', 'src', 'main.js'));
    else if (launch.mode === 'built') args.push(join(ROOT, 'dist', 'src', 'main.js'));
    else args.push('-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts'));
    const child = spawn(process.execPath, args, {
      cwd: options.root ?? ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TS_NODE_TRANSPILE_ONLY: 'true',
        ...(launch.nodeEnv ? { NODE_ENV: launch.nodeEnv } : {}),
        ...(launch.safety === 'raised' ? BENCH_LIMITS : {}),
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    const instance = new ParleyProcess(name, port, child, profilePath);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => instance.onLine(line));
    }
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`Parley ${name} exited (${code ?? signal}) while starting:\n${instance.tail.join('\n')}`)),
      ),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await Promise.race([
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        ),
        exited,
      ]);
      if (ready && (!options.inspect || instance.inspectorUrl)) return instance;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Parley ${name} was not ready within 60 s:\n${instance.tail.join('\n')}`);
      }
      await sleep(100);
    }
  }

  private onLine(line: string): void {
    const inspector = /^Debugger listening on (ws:\S+)/.exec(line);
    if (inspector) {
      this.inspectorUrl = inspector[1];
      return;
    }
    // The inspector's own chatter (attach, detach, help) is not the server's output.
    if (/^(Debugger |For help, see: https:\/\/nodejs.org\/en\/docs\/inspector)/.test(line)) return;
    this.logLines++;
    this.tail.push(line);
    if (this.tail.length > 50) this.tail.shift();
    if (this.logLines <= ECHOED_LINES) process.stderr.write(`    [parley ${this.name}] ${line.slice(0, 400)}\n`);
    else if (this.logLines === ECHOED_LINES + 1)
      process.stderr.write(`    [parley ${this.name}] (further output only counted)\n`);
  }

  /** The instance's `/metrics`, parsed. */
  async metrics(): Promise<PromSamples> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return parseProm(await res.text());
  }

  /** SIGSTOP: the process holds its sockets but does nothing until killed (a hung instance). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGKILL, when a graceful stop would only cost time (no profile wanted); waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (graceful: Parley drains and exits, writing its CPU profile), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}
