import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications: the stored notifications (at most one per recipient and message, and one
 * ADDED_TO_CONVERSATION per recipient and conversation), each user's preference, muted
 * conversations and Web Push subscriptions.
 */
export class Notifications1764300000000 implements MigrationInterface {
  name = 'Notifications1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('NEW_MESSAGE', 'ADDED_TO_CONVERSATION')),
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        message_id uuid REFERENCES messages (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        pushed_at timestamptz,
        CHECK ((kind = 'NEW_MESSAGE') = (message_id IS NOT NULL)),
        CONSTRAINT notifications_recipient_message_key UNIQUE (recipient_id, message_id)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX notifications_recipient_added_key ON notifications (recipient_id, conversation_id)
       WHERE kind = 'ADDED_TO_CONVERSATION'`);
    await q.query(
      `CREATE INDEX notifications_recipient_created_idx ON notifications (recipient_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX notifications_unread_idx ON notifications (recipient_id) WHERE read_at IS NULL`);
    await q.query(`
      CREATE INDEX notifications_unpushed_idx ON notifications (recipient_id, conversation_id)
       WHERE pushed_at IS NULL`);
    await q.query(`
      CREATE TABLE notification_preferences (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        notify_when text NOT NULL CHECK (notify_when IN ('ALWAYS', 'WHEN_AWAY', 'NEVER'))
      )`);
    await q.query(`
      CREATE TABLE conversation_mutes (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, conversation_id)
      )`);
    await q.query(`
      CREATE TABLE push_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        endpoint text NOT NULL UNIQUE,
        p256dh text NOT NULL,
        auth text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE push_subscriptions`);
    await q.query(`DROP TABLE conversation_mutes`);
    await q.query(`DROP TABLE notification_preferences`);
    await q.query(`DROP TABLE notifications`);
  }
}
