import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications keep their cascades without a key check per stored row: the foreign keys to
 * `conversation_participants` and `messages` become statement-level AFTER DELETE triggers that
 * delete the notifications of the removed participants and messages.
 *
 * A foreign key checks every inserted row with a lookup and a `FOR KEY SHARE` lock on the
 * referenced row. A group message's notifications are one row per recipient, and concurrent jobs
 * lock the same participant rows, so PostgreSQL turned those locks into multixacts. The rows a
 * job stores come from the participants it has just read, and nothing in Parley deletes a
 * participant or a message; the triggers keep an operator's deletes (a user, a conversation, a
 * message) cascading as before, one statement for a whole delete instead of one per row.
 * Chat stores with a row per (event, recipient) go without these keys for the same reason
 * (Matrix Synapse's `event_push_actions`).
 */
export class NotificationsStatementCascades1764600000000 implements MigrationInterface {
  name = 'NotificationsStatementCascades1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE notifications
        DROP CONSTRAINT notifications_participant_fkey,
        DROP CONSTRAINT notifications_message_id_fkey`);
    await q.query(`
      CREATE FUNCTION notifications_delete_of_participants() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM notifications n USING gone g
         WHERE n.recipient_id = g.user_id AND n.conversation_id = g.conversation_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER notifications_cascade_participants AFTER DELETE ON conversation_participants
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION notifications_delete_of_participants()`);
    await q.query(`
      CREATE FUNCTION notifications_delete_of_messages() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM notifications n USING gone g WHERE n.message_id = g.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER notifications_cascade_messages AFTER DELETE ON messages
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION notifications_delete_of_messages()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER notifications_cascade_messages ON messages`);
    await q.query(`DROP FUNCTION notifications_delete_of_messages()`);
    await q.query(`DROP TRIGGER notifications_cascade_participants ON conversation_participants`);
    await q.query(`DROP FUNCTION notifications_delete_of_participants()`);
    await q.query(`
      ALTER TABLE notifications
        ADD CONSTRAINT notifications_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE,
        ADD CONSTRAINT notifications_participant_fkey FOREIGN KEY (conversation_id, recipient_id)
          REFERENCES conversation_participants (conversation_id, user_id) ON DELETE CASCADE`);
  }
}
