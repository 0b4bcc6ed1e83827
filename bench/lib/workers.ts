import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { trackChild } from './children';
import type { Handlers, TaskResponse } from './worker-host';

/** How a worker process is started. */
export interface WorkerOptions {
  maxOldSpaceMb?: number;
  execArgv?: string[];
}

/**
 * A load-generator or baseline process started by the orchestrator: a separate Node process
 * (its own event loop, so it never shares one with the server it measures) that runs the tasks
 * of one `bench/workers/*.worker.ts` file, called over IPC with structured clone.
 *
 * @typeParam H - the worker file's `handlers`, for typed calls: `WorkerProcess<typeof handlers>`.
 */
export class WorkerProcess<H extends Handlers> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; task: string }
  >();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: TaskResponse) => {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.ok) call.resolve(message.result);
      else call.reject(new Error(`${name}.${call.task} failed in the worker:\n${message.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const call of this.pending.values())
        call.reject(new Error(`${name} exited (${code ?? signal}) during ${call.task}`));
      this.pending.clear();
    });
  }

  /**
   * Forks `bench/workers/<file>` under ts-node (transpile-only) and waits until it serves.
   * @param options.maxOldSpaceMb - heap limit of the child (many sockets need more than the default).
   * @param options.execArgv - more node flags (e.g. `--expose-gc`).
   */
  static async start<H extends Handlers>(
    file: string,
    name: string,
    options: WorkerOptions = {},
  ): Promise<WorkerProcess<H>> {
    const execArgv = ['-r', 'ts-node/register/transpile-only', ...(options.execArgv ?? [])];
    if (options.maxOldSpaceMb) execArgv.push(`--max-old-space-size=${options.maxOldSpaceMb}`);
    const child = fork(join(__dirname, '..', 'workers', file), [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    });
    trackChild(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} while starting`));
      });
    });
    return new WorkerProcess<H>(name, child);
  }

  /** Runs one task in the worker and resolves with its result. */
  call<K extends keyof H & string>(task: K, params: Parameters<H[K]>[0]): Promise<Awaited<ReturnType<H[K]>>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, task });
      this.child.send({ id, task, params });
    });
  }

  /** SIGKILL (a baseline server dying, for the reconnect storm); waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Ends the worker (closing its IPC channel makes it exit) and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
