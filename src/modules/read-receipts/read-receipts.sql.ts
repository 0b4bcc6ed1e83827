import type { Sql } from '../../db/sql';
import { ReadReceipt } from './read-receipts.types';

/** The columns of a `read_receipts` row, aliased to the {@link ReadReceipt} fields. */
const RECEIPT_COLUMNS = `conversation_id AS "conversationId", user_id AS "userId", last_read_seq AS "lastReadSeq", read_at AS "readAt"`;

/** A row of {@link RECEIPT_COLUMNS} (`readAt` arrives as a `Date`). */
type ReceiptRow = Pick<ReadReceipt, 'conversationId' | 'userId' | 'lastReadSeq' | 'readAt'>;

const toReceipt = (row: ReceiptRow): ReadReceipt => Object.assign(new ReadReceipt(), row);

/**
 * `markConversationRead`'s move: $3 clamped to the conversation's newest seq, at time $4. Only
 * forward: a stored position is replaced by a higher one only. No row when $2 is not a
 * participant of $1 (or there is no such conversation) or the position would not move.
 */
const MARK_READ = `
  INSERT INTO read_receipts (conversation_id, user_id, last_read_seq, read_at)
  SELECT c.id, $2::uuid, LEAST($3::int, c.last_seq), $4::timestamptz FROM conversations c
   WHERE c.id = $1::uuid
     AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1::uuid AND user_id = $2::uuid)
  ON CONFLICT (conversation_id, user_id) DO UPDATE
     SET last_read_seq = EXCLUDED.last_read_seq, read_at = EXCLUDED.read_at
   WHERE read_receipts.last_read_seq < EXCLUDED.last_read_seq
  RETURNING ${RECEIPT_COLUMNS}`;

/**
 * Moves a participant's read position forward to `seq`, clamped to the conversation's newest seq.
 * @returns the stored receipt when it moved (or was first stored), else `null`: not a
 *   participant, no such conversation, or a position already at or past `seq`.
 */
export async function advanceReadPosition(
  sql: Sql,
  m: { conversationId: string; userId: string; seq: number; readAt: Date },
): Promise<ReadReceipt | null> {
  const rows = await sql<ReceiptRow>(MARK_READ, [m.conversationId, m.userId, m.seq, m.readAt]);
  return rows.length ? toReceipt(rows[0]) : null;
}

/** The stored read position of a user in a conversation, or `null` when none is stored. */
export async function selectReceipt(sql: Sql, conversationId: string, userId: string): Promise<ReadReceipt | null> {
  const rows = await sql<ReceiptRow>(
    `SELECT ${RECEIPT_COLUMNS} FROM read_receipts WHERE conversation_id = $1 AND user_id = $2`,
    [conversationId, userId],
  );
  return rows.length ? toReceipt(rows[0]) : null;
}

/** (conversation, user) pairs as two parallel arrays: pair `i` is `conversationIds[i]`, `userIds[i]`. */
export interface ReadPairs {
  conversationIds: readonly string[];
  userIds: readonly string[];
}

/** The stored `last_read_seq` of each pair that has one (pairs without a row are missing), in no particular order. */
export function selectLastReadSeqs(
  sql: Sql,
  pairs: ReadPairs,
): Promise<Array<{ conversationId: string; userId: string; seq: number }>> {
  return sql(
    `SELECT r.conversation_id AS "conversationId", r.user_id AS "userId", r.last_read_seq AS seq
       FROM unnest($1::uuid[], $2::uuid[]) AS k(conversation_id, user_id)
       JOIN read_receipts r ON r.conversation_id = k.conversation_id AND r.user_id = k.user_id`,
    [pairs.conversationIds, pairs.userIds],
  );
}

/**
 * The unread count of each pair whose conversation exists: the conversation's `last_seq` minus
 * the user's position (0 when none is stored), never below 0. In no particular order.
 */
export function selectUnreadCounts(
  sql: Sql,
  pairs: ReadPairs,
): Promise<Array<{ conversationId: string; userId: string; count: number }>> {
  return sql(
    `SELECT k.conversation_id AS "conversationId", k.user_id AS "userId",
            GREATEST(c.last_seq - COALESCE(r.last_read_seq, 0), 0)::int AS count
       FROM unnest($1::uuid[], $2::uuid[]) AS k(conversation_id, user_id)
       JOIN conversations c ON c.id = k.conversation_id
       LEFT JOIN read_receipts r ON r.conversation_id = k.conversation_id AND r.user_id = k.user_id`,
    [pairs.conversationIds, pairs.userIds],
  );
}

/**
 * Every participant's read position in the conversations among `conversationIds`, sorted by
 * conversation and user id. A participant who has read nothing is at 0, read at their join time.
 */
export async function selectReceiptsOf(sql: Sql, conversationIds: readonly string[]): Promise<ReadReceipt[]> {
  const rows = await sql<ReceiptRow>(
    `SELECT p.conversation_id AS "conversationId", p.user_id AS "userId",
            COALESCE(r.last_read_seq, 0) AS "lastReadSeq", COALESCE(r.read_at, p.joined_at) AS "readAt"
       FROM conversation_participants p
       LEFT JOIN read_receipts r ON r.conversation_id = p.conversation_id AND r.user_id = p.user_id
      WHERE p.conversation_id = ANY($1::uuid[])
      ORDER BY p.conversation_id, p.user_id`,
    [conversationIds],
  );
  return rows.map(toReceipt);
}
