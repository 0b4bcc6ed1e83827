/**
 * The raw statements of the baselines. They are copies, on purpose: a baseline is what the
 * machine can do for the same work, and must not move when the server's own SQL changes.
 */

/**
 * The database work of one `sendMessage`, as Parley's INSERT_MESSAGE
 * (src/modules/messages/messages.service.ts) does it when this harness was written: bump the
 * conversation's counter row (checking membership) and insert the message, in one statement, one
 * implicit transaction. Parameters: conversation id, sender id, body, client message id.
 */
export const BASELINE_INSERT_MESSAGE = `
  WITH counter AS (
    UPDATE conversations
       SET last_seq = last_seq + 1, last_activity_at = date_trunc('milliseconds', clock_timestamp())
     WHERE id = $1
       AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2)
    RETURNING last_seq, last_activity_at
  )
  INSERT INTO messages (conversation_id, sender_id, seq, body, client_message_id, created_at)
  SELECT $1, $2, counter.last_seq, $3, $4, counter.last_activity_at FROM counter
  RETURNING id, conversation_id AS "conversationId", sender_id AS "senderId", seq, body,
            client_message_id AS "clientMessageId", created_at AS "createdAt"`;

/**
 * One page of history, newest first, by keyset on seq (one row more than the page, as Parley
 * reads it to know hasNextPage). Parameters: conversation id, before seq (exclusive), limit.
 */
export const BASELINE_HISTORY_PAGE = `
  SELECT id, conversation_id, sender_id, seq, body, client_message_id, created_at
    FROM messages
   WHERE conversation_id = $1 AND seq < $2
   ORDER BY seq DESC
   LIMIT $3`;
