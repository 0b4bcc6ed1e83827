import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { watchConnection } from '../../redis/redis-client';
import { GiveUp, retryDelayMs, type JobHandler, type JobOptions, type JobQueue } from './notifications.queue';

/** Where and how the BullMQ queue runs. */
export interface BullJobQueueOptions {
  redisUrl: string;
  /** Key prefix (the deployment's REDIS_PREFIX + `bull`). */
  prefix: string;
  concurrency: number;
  /** ms a job stays locked to its worker without a renewal; a dead worker's job is taken again after it. */
  lockMs: number;
  /** Longest wait for running jobs on {@link BullJobQueue.close}, ms. */
  closeTimeoutMs: number;
  /** Logs a job's final failure. */
  onError: (err: unknown, name: string) => void;
  /** Where connection failures and recoveries are logged (once each, not per retry). */
  log: Logger;
}

const QUEUE = 'notifications';

/**
 * The {@link JobQueue} on Redis with BullMQ: a job survives the crash of the instance that added
 * it, a job whose worker died is taken again once its lock expires (`lockMs`), and the job id
 * dedupes. Queue and Worker get ioredis connections of their own, the Worker's with
 * `maxRetriesPerRequest: null` as BullMQ requires for its blocking commands.
 */
/** Longest wait for Redis to take a job, ms: a send never waits longer on its notifications. */
const ADD_TIMEOUT_MS = 1_000;

export class BullJobQueue implements JobQueue {
  private readonly queueConnection: Redis;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: Redis | null = null;

  constructor(private readonly options: BullJobQueueOptions) {
    // The producer fails fast while Redis is unreachable (BullMQ's advice for Queue instances): an
    // enqueue runs on the send path, which must never hang on it. Only the worker blocks.
    this.queueConnection = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    watchConnection(this.queueConnection, 'parley:bull-queue', options.log);
    this.queue = new Queue(QUEUE, {
      connection: this.queueConnection,
      prefix: options.prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000 },
    });
    // Without a listener BullMQ prints connection errors to the console; ioredis reconnects by
    // itself, and watchConnection has logged the failure once.
    this.queue.on('error', (err) => this.onBullError(err, 'queue'));
  }

  /** @throws when Redis does not take the job within {@link ADD_TIMEOUT_MS} (the caller logs it). */
  async add(name: string, data: object, o: JobOptions): Promise<void> {
    const added = this.queue.add(name, data, {
      jobId: o.jobId,
      delay: o.delayMs,
      attempts: o.attempts ?? 1,
      backoff: { type: 'parley' },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('enqueueing a notification job timed out')), ADD_TIMEOUT_MS);
    });
    try {
      await Promise.race([added, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  run(handler: JobHandler): void {
    this.workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    watchConnection(this.workerConnection, 'parley:bull-worker', this.options.log);
    this.worker = new Worker(
      QUEUE,
      async (job: Job) => {
        try {
          await handler(job.name, job.data);
        } catch (err) {
          if (err instanceof GiveUp) throw new UnrecoverableError(err.message);
          throw err;
        }
      },
      {
        connection: this.workerConnection,
        prefix: this.options.prefix,
        concurrency: this.options.concurrency,
        lockDuration: this.options.lockMs,
        stalledInterval: this.options.lockMs,
        settings: { backoffStrategy: (attemptsMade, _type, err) => retryDelayMs(attemptsMade, err) },
      },
    );
    this.worker.on('failed', (job, err) => {
      if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError)) {
        this.options.onError(err, job.name);
      }
    });
    // Connection errors are retried by ioredis; BullMQ re-emits them here.
    this.worker.on('error', (err) => this.onBullError(err, 'worker'));
  }

  /**
   * An error BullMQ emits. A connection error (a system error such as ECONNRESET, or ioredis's
   * "Connection is closed") is dropped: ioredis reconnects, and watchConnection logs the failure
   * once. Anything else is logged as an error.
   */
  private onBullError(err: Error, source: string): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code?.startsWith('E') || /Connection is closed|Stream isn't writeable/.test(err.message)) return;
    this.options.log.error({ err, source }, 'the notification queue failed');
  }

  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /**
   * Whether Redis answers a PING now. A connection's status still reads `ready` for a moment after
   * Redis dies, and a graceful Worker.close() begun then never ends: its commands wait on a
   * connection that will not come back, and BullMQ cannot turn it into a forced close later.
   */
  private async reachable(): Promise<boolean> {
    const connection = this.workerConnection;
    if (connection?.status !== 'ready') return false;
    let answered = false;
    await within(
      connection.ping().then(() => (answered = true)),
      PING_TIMEOUT_MS,
    );
    return answered;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    // Worker.close() waits for the running jobs to finish. With Redis unreachable it could wait
    // forever, so the wait is bounded, then everything is dropped: an unfinished job is taken
    // again by another worker once its lock expires.
    if (worker && (await this.reachable())) {
      await within(worker.close(), this.options.closeTimeoutMs);
    }
    this.queueConnection.disconnect();
    this.workerConnection?.disconnect();
    await within(Promise.all([worker?.close(true), this.queue.close()]), 1_000);
  }
}

/** Longest wait for Redis to answer a PING before a graceful close, ms. */
const PING_TIMEOUT_MS = 500;

/** Waits for `work` at most `ms`; never rejects. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work.catch(() => undefined), bound]);
  clearTimeout(timer);
}
