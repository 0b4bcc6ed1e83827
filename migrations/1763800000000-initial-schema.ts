import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users, conversations (identified by a hash of their participant set), participants and
 * messages with a per-conversation gap-free `seq` taken from `conversations.last_seq`.
 */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL,
        display_name text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))`);
    await q.query(`CREATE INDEX users_display_name_lower_idx ON users (lower(display_name) text_pattern_ops)`);
    await q.query(`CREATE INDEX users_username_lower_pattern_idx ON users (lower(username) text_pattern_ops)`);

    await q.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        participant_key text NOT NULL,
        is_group boolean NOT NULL,
        title text,
        last_seq integer NOT NULL DEFAULT 0,
        last_activity_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        CONSTRAINT conversations_participant_key_key UNIQUE (participant_key)
      )`);

    await q.query(`
      CREATE TABLE conversation_participants (
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        joined_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        PRIMARY KEY (conversation_id, user_id)
      )`);
    await q.query(
      `CREATE INDEX conversation_participants_user_idx ON conversation_participants (user_id, conversation_id)`,
    );

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        sender_id uuid NOT NULL REFERENCES users (id),
        seq integer NOT NULL,
        body text NOT NULL,
        client_message_id text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq),
        CONSTRAINT messages_sender_client_message_id_key UNIQUE (sender_id, client_message_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE messages`);
    await q.query(`DROP TABLE conversation_participants`);
    await q.query(`DROP TABLE conversations`);
    await q.query(`DROP TABLE users`);
  }
}
