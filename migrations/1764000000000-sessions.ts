import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions in the database, for deployments without Redis (the embedded default): a token stays
 * valid across a restart until it expires or is logged out.
 */
export class Sessions1764000000000 implements MigrationInterface {
  name = 'Sessions1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sessions_expires_at_idx ON sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sessions`);
  }
}
