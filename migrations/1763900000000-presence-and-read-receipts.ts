import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * State that must outlive Redis: each user's last time online (`users.last_seen_at`) and each
 * participant's read position in a conversation (`read_receipts`). Typing and live presence are
 * ephemeral and never reach PostgreSQL.
 */
export class PresenceAndReadReceipts1763900000000 implements MigrationInterface {
  name = 'PresenceAndReadReceipts1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN last_seen_at timestamptz`);
    await q.query(`
      CREATE TABLE read_receipts (
        conversation_id uuid NOT NULL,
        user_id uuid NOT NULL,
        last_read_seq integer NOT NULL CHECK (last_read_seq >= 0),
        read_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        PRIMARY KEY (conversation_id, user_id),
        FOREIGN KEY (conversation_id, user_id)
          REFERENCES conversation_participants (conversation_id, user_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE read_receipts`);
    await q.query(`ALTER TABLE users DROP COLUMN last_seen_at`);
  }
}
