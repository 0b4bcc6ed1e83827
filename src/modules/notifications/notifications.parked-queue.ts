import type { Logger } from 'pino';
import type { Db } from '../../db/sql';
import type { JobHandler, JobOptions, JobQueue } from './notifications.queue';

/** A parked job as stored. */
interface ParkedJob {
  jobId: string;
  name: string;
  data: object;
  attempts: number;
}

/** Jobs handed back to the queue per statement. */
const BATCH = 100;

/**
 * A {@link JobQueue} that keeps what the queue on Redis cannot take: a job whose `add` fails (a
 * Redis outage) is parked in PostgreSQL (`notification_jobs_parked`), and every `retryMs` an
 * instance hands the parked jobs back to the queue, oldest first, once Redis takes them again. A
 * message sent during an outage is therefore notified after it, not lost. This is the outbox
 * pattern (transactional outbox, microservices.io) applied only on failure: a healthy send writes
 * nothing more to PostgreSQL.
 *
 * Parked jobs are claimed with `FOR UPDATE SKIP LOCKED`, so instances never hand back the same
 * job at once; a job handed back twice all the same (a crash between add and delete) is deduped by
 * its job id, or else runs twice, which the worker's idempotent writes absorb.
 */
export class ParkedJobQueue implements JobQueue {
  private timer: NodeJS.Timeout | null = null;
  private handing: Promise<void> | null = null;
  private closed = false;

  /**
   * @param retryMs - how often parked jobs are handed back, ms.
   * @param onParked - told of each job parked (metrics).
   */
  constructor(
    private readonly queue: JobQueue,
    private readonly db: Db,
    private readonly log: Logger,
    private readonly retryMs: number,
    private readonly onParked: () => void = () => undefined,
  ) {}

  /** Adds to the queue, or parks the job in PostgreSQL when the queue refuses it. @throws only when both fail. */
  async add(name: string, data: object, options: JobOptions): Promise<void> {
    try {
      await this.queue.add(name, data, options);
    } catch (err) {
      await this.db.sql(
        `INSERT INTO notification_jobs_parked (job_id, name, data, attempts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job_id) DO NOTHING`,
        [options.jobId, name, JSON.stringify(data), options.attempts ?? 1],
      );
      this.onParked();
      this.log.warn({ err, jobId: options.jobId }, 'the job queue refused a notification job; parked in PostgreSQL');
    }
  }

  /** Starts the queue's worker. */
  run(handler: JobHandler): void {
    this.queue.run(handler);
  }

  /** Hands parked jobs back every `retryMs` (every instance does, worker or not). */
  start(): void {
    this.timer ??= setInterval(() => void this.handBack(), this.retryMs).unref();
  }

  depth(): Promise<number> {
    return this.queue.depth();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.handing;
    await this.queue.close();
  }

  /**
   * Hands the parked jobs back to the queue in batches until none is left or the queue refuses
   * one (Redis still down: the rest wait for the next run). Never rejects; one run at a time.
   */
  handBack(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.handing ??= this.handBackAll()
      .catch((err: unknown) => this.log.warn({ err }, 'handing parked notification jobs back failed'))
      .finally(() => (this.handing = null));
    return this.handing;
  }

  private async handBackAll(): Promise<void> {
    let moved = BATCH;
    while (moved === BATCH) {
      moved = await this.db.transaction(async (sql) => {
        const jobs = await sql<ParkedJob>(
          `SELECT job_id AS "jobId", name, data, attempts FROM notification_jobs_parked
            ORDER BY parked_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        );
        const done: string[] = [];
        for (const job of jobs) {
          try {
            await this.queue.add(job.name, job.data, { jobId: job.jobId, attempts: job.attempts });
          } catch {
            break; // still refused: the rest wait for the next run
          }
          done.push(job.jobId);
        }
        if (done.length) await sql(`DELETE FROM notification_jobs_parked WHERE job_id = ANY($1)`, [done]);
        return done.length;
      });
    }
  }
}
