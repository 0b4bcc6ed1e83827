/** Options of one job. */
export interface JobOptions {
  /** Dedupe key: while a job with this id is waiting, delayed or running, adding it again does nothing. No `:`. */
  jobId: string;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Runs at most this many times (first run included); 1 by default. */
  attempts?: number;
}

/** What a worker runs for each job: rejects to fail the attempt (see {@link RetryLater} and {@link GiveUp}). */
export type JobHandler = (name: string, data: unknown) => Promise<void>;

/** A failed attempt that should be retried, after `retryAfterMs` when given (Retry-After). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** A failure that no retry can fix (a 4xx answer): the job is not tried again. */
export class GiveUp extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GiveUp';
  }
}

/** First retry delay, ms; each later one doubles. */
export const RETRY_BASE_MS = 1_000;

/** Delay before the retry after `attemptsMade` failed attempts: Retry-After when the error has one, else 1 s doubling. */
export function retryDelayMs(attemptsMade: number, err: unknown): number {
  if (err instanceof RetryLater && err.retryAfterMs !== undefined) return err.retryAfterMs;
  return RETRY_BASE_MS * 2 ** Math.max(0, attemptsMade - 1);
}

/**
 * The notifications job queue: BullMQ on Redis in a deployment (durable, shared by the workers of
 * every instance), in-process on the embedded default.
 */
export interface JobQueue {
  /** Enqueues a job (durable once resolved, on Redis). */
  add(name: string, data: object, options: JobOptions): Promise<void>;
  /** Starts this instance's worker. */
  run(handler: JobHandler): void;
  /** Jobs waiting, delayed or running. */
  depth(): Promise<number>;
  /** Stops taking jobs, lets the running ones finish, and closes the connections. */
  close(): Promise<void>;
}

interface MemoryJob {
  name: string;
  data: unknown;
  attempts: number;
  attemptsMade: number;
}

/**
 * The in-process {@link JobQueue} of the embedded default (one instance, so nothing to share):
 * the same dedupe by job id, delays, attempts and backoff as the BullMQ one, lost on a crash like
 * everything else the embedded default keeps in memory.
 */
export class MemoryJobQueue implements JobQueue {
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly ready: string[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private handler: JobHandler | null = null;
  private closed = false;

  /** @param concurrency - jobs run at once. */
  constructor(
    private readonly concurrency: number,
    private readonly onError: (err: unknown, name: string) => void,
  ) {}

  add(name: string, data: object, options: JobOptions): Promise<void> {
    if (this.closed || this.jobs.has(options.jobId)) return Promise.resolve();
    this.jobs.set(options.jobId, { name, data, attempts: options.attempts ?? 1, attemptsMade: 0 });
    this.schedule(options.jobId, options.delayMs ?? 0);
    return Promise.resolve();
  }

  run(handler: JobHandler): void {
    this.handler = handler;
    this.pump();
  }

  depth(): Promise<number> {
    return Promise.resolve(this.jobs.size);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private schedule(id: string, delayMs: number): void {
    if (delayMs <= 0) {
      this.ready.push(id);
      this.pump();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.ready.push(id);
      this.pump();
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private pump(): void {
    while (this.handler && !this.closed && this.running.size < this.concurrency && this.ready.length) {
      const id = this.ready.shift()!;
      const done = this.attempt(id, this.handler).finally(() => {
        this.running.delete(done);
        this.pump();
      });
      this.running.add(done);
    }
  }

  private async attempt(id: string, handler: JobHandler): Promise<void> {
    const job = this.jobs.get(id)!;
    job.attemptsMade++;
    try {
      await handler(job.name, job.data);
      this.jobs.delete(id);
    } catch (err) {
      if (err instanceof GiveUp || job.attemptsMade >= job.attempts || this.closed) {
        this.jobs.delete(id);
        this.onError(err, job.name);
      } else this.schedule(id, retryDelayMs(job.attemptsMade, err));
    }
  }
}
