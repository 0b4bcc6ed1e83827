import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A notification's id is derived from what it is about: `notification_id(kind, recipient,
 * subject)`, where the subject is the message (NEW_MESSAGE) or the conversation
 * (ADDED_TO_CONVERSATION). The primary key then also keeps a notification stored once per
 * recipient and subject (a retried job inserts the same ids and skips them), and the two unique
 * indexes that did only that go: one index entry less per stored row.
 *
 * The id is the MD5 of the three values, read as a UUID: a name-based id, as UUID version 3 is,
 * without its version bits (setting them cost more than the hash). Ids stored before keep their
 * random value; a job retried across this migration for a message notified before it could store
 * its notifications a second time.
 */
export class NotificationsDerivedIds1764700000000 implements MigrationInterface {
  name = 'NotificationsDerivedIds1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION notification_id(kind text, recipient uuid, subject uuid) RETURNS uuid
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT md5(kind || recipient::text || subject::text)::uuid $$`);
    await q.query(`ALTER TABLE notifications ALTER COLUMN id DROP DEFAULT`);
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_recipient_message_key`);
    await q.query(`DROP INDEX notifications_recipient_added_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNIQUE INDEX notifications_recipient_added_key ON notifications (recipient_id, conversation_id)
       WHERE kind = 'ADDED_TO_CONVERSATION'`);
    await q.query(
      `ALTER TABLE notifications ADD CONSTRAINT notifications_recipient_message_key UNIQUE (recipient_id, message_id)`,
    );
    await q.query(`ALTER TABLE notifications ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
    await q.query(`DROP FUNCTION notification_id(text, uuid, uuid)`);
  }
}
