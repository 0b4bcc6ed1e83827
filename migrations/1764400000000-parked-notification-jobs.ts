import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notification jobs that Redis could not take (an outage): kept in PostgreSQL until an instance
 * hands them to the queue again (src/modules/notifications/notifications.parked-queue.ts). Empty
 * while Redis is healthy.
 */
export class ParkedNotificationJobs1764400000000 implements MigrationInterface {
  name = 'ParkedNotificationJobs1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_jobs_parked (
        job_id text PRIMARY KEY,
        name text NOT NULL,
        data jsonb NOT NULL,
        attempts integer NOT NULL,
        parked_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_jobs_parked`);
  }
}
