import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A notification's recipient must be a participant of its conversation: one composite foreign key
 * to `conversation_participants` replaces the two to `users` and `conversations`. The cascades are
 * the same (deleting a user or a conversation deletes its participants, and with them these
 * notifications), and PostgreSQL checks one key per inserted row instead of two: each check is a
 * lookup plus a `FOR KEY SHARE` row lock, which made up about a quarter of the cost of storing a
 * group message's notifications (49 rows in one statement).
 */
export class NotificationsParticipantFk1764500000000 implements MigrationInterface {
  name = 'NotificationsParticipantFk1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE notifications
        DROP CONSTRAINT notifications_recipient_id_fkey,
        DROP CONSTRAINT notifications_conversation_id_fkey,
        ADD CONSTRAINT notifications_participant_fkey FOREIGN KEY (conversation_id, recipient_id)
          REFERENCES conversation_participants (conversation_id, user_id) ON DELETE CASCADE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE notifications
        DROP CONSTRAINT notifications_participant_fkey,
        ADD CONSTRAINT notifications_recipient_id_fkey FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE CASCADE,
        ADD CONSTRAINT notifications_conversation_id_fkey FOREIGN KEY (conversation_id)
          REFERENCES conversations (id) ON DELETE CASCADE`);
  }
}
