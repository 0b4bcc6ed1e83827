import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who blocks whom ([safety]): a blocked user cannot start or send to a direct conversation with
 * the blocker, and their typing does not reach the blocker. The index on `blocked_id` serves
 * "which of these users block the sender" (sends, notifications).
 */
export class UserBlocks1764100000000 implements MigrationInterface {
  name = 'UserBlocks1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_blocks (
        blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (blocker_id, blocked_id),
        CHECK (blocker_id <> blocked_id)
      )`);
    await q.query(`CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id, blocker_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_blocks`);
  }
}
