import type { Sql } from '../../db/sql';
import type { Statement } from '../../db/prepared';
import { User } from '../users/user.entity';
import { Message } from './message.entity';

/**
 * The select list of a message `m` joined with its sender `u`: one query gives a page of history
 * (or a sent message) and every sender on it. Timestamps travel as epoch milliseconds (float8,
 * exact for the stored millisecond precision), which node-postgres parses far faster than
 * `timestamptz` text. The conversation id is the caller's parameter, not a column read per row.
 */
const MESSAGE_WITH_SENDER = `m.id, m.sender_id AS "senderId", m.seq, m.body, m.client_message_id AS "clientMessageId",
  (extract(epoch FROM m.created_at) * 1000)::float8 AS "createdAtMs",
  u.username, u.display_name AS "displayName", (extract(epoch FROM u.created_at) * 1000)::float8 AS "senderCreatedAtMs"`;

/** A row of {@link MESSAGE_WITH_SENDER}. */
interface MessageRow {
  id: string;
  senderId: string;
  seq: number;
  body: string;
  clientMessageId: string | null;
  createdAtMs: number;
  username: string;
  displayName: string;
  senderCreatedAtMs: number;
}

/** A sender's public fields as a User (from a joined row or an event payload). */
export function senderUser(id: string, username: string, displayName: string, createdAt: Date): User {
  const sender = new User();
  sender.id = id;
  sender.username = username;
  sender.displayName = displayName;
  sender.createdAt = createdAt;
  return sender;
}

/** The Message of a {@link MessageRow}, its sender attached (`message.sender`). */
function toMessage(row: MessageRow, conversationId: string): Message & { sender: User } {
  const message = new Message() as Message & { sender: User };
  message.id = row.id;
  message.conversationId = conversationId;
  message.senderId = row.senderId;
  message.seq = row.seq;
  message.body = row.body;
  message.clientMessageId = row.clientMessageId;
  message.createdAt = new Date(row.createdAtMs);
  message.sender = senderUser(row.senderId, row.username, row.displayName, new Date(row.senderCreatedAtMs));
  return message;
}

/**
 * The whole send in one statement (one round trip, one implicit transaction):
 * - `counter` takes the next seq from the conversation's counter row. Its row lock serializes
 *   concurrent senders of one conversation, and a failed INSERT (duplicate clientMessageId) rolls
 *   the counter back with it, so seqs are 1..N without gaps. Not a PostgreSQL sequence: those
 *   skip numbers on rollback. No row means the sender is not a participant (or no conversation).
 * - `receipt` moves the sender's own read position forward to the new message (read receipts
 *   only move forward). It is not published: readReceipt streams derive it from the message event.
 * - the final SELECT returns the message with its sender's columns.
 */
const INSERT_MESSAGE: Statement = {
  name: 'parley_send_message',
  text: `
  WITH counter AS (
    UPDATE conversations
       SET last_seq = last_seq + 1, last_activity_at = date_trunc('milliseconds', clock_timestamp())
     WHERE id = $1
       AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2)
       AND (is_group OR NOT EXISTS (
             SELECT 1 FROM user_blocks b JOIN conversation_participants p ON p.user_id = b.blocker_id
              WHERE b.blocked_id = $2 AND p.conversation_id = $1))
    RETURNING last_seq, last_activity_at
  ), message AS (
    INSERT INTO messages (conversation_id, sender_id, seq, body, client_message_id, created_at)
    SELECT $1, $2, counter.last_seq, $3, $4, counter.last_activity_at FROM counter
    RETURNING id, conversation_id, sender_id, seq, body, client_message_id, created_at
  ), receipt AS (
    INSERT INTO read_receipts (conversation_id, user_id, last_read_seq, read_at)
    SELECT conversation_id, sender_id, seq, created_at FROM message
    ON CONFLICT (conversation_id, user_id) DO UPDATE
       SET last_read_seq = EXCLUDED.last_read_seq, read_at = EXCLUDED.read_at
     WHERE read_receipts.last_read_seq < EXCLUDED.last_read_seq
  )
  SELECT ${MESSAGE_WITH_SENDER} FROM message m JOIN users u ON u.id = m.sender_id`,
};

/**
 * Stores a message with the next seq of its conversation (see {@link INSERT_MESSAGE}).
 * @returns the message with its sender, or `null` when the sender is not a participant (or there
 *   is no such conversation), or the conversation is direct and the other participant blocks the
 *   sender (`user_blocks`, the safety module's table: checked here to keep a send one statement).
 * @throws the driver's unique violation `messages_sender_client_message_id_key` for a reused clientMessageId.
 */
export async function insertMessage(
  sql: Sql,
  m: { conversationId: string; senderId: string; body: string; clientMessageId: string | null },
): Promise<(Message & { sender: User }) | null> {
  const rows = await sql<MessageRow>(INSERT_MESSAGE, [m.conversationId, m.senderId, m.body, m.clientMessageId]);
  return rows.length ? toMessage(rows[0], m.conversationId) : null;
}

/** Messages `m` matching `where`, with their senders, in seq order, at most `limit` (a placeholder such as `$2`). */
function selectMessages(where: string, order: 'ASC' | 'DESC', limit: string): string {
  return `SELECT ${MESSAGE_WITH_SENDER} FROM messages m JOIN users u ON u.id = m.sender_id
    WHERE ${where} ORDER BY m.seq ${order} LIMIT ${limit}`;
}

/**
 * Many ranges in one statement: $1 conversation ids, $2 after seqs, $3 until seqs (inclusive),
 * $4 limits, one of each per range; each row carries its range's 1-based index (`range`). Each
 * range is an index scan on (conversation_id, seq), as a statement of its own would be.
 */
const RANGES: Statement = {
  name: 'parley_ranges',
  text: `SELECT r.ord::int AS range, ${MESSAGE_WITH_SENDER}
    FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) WITH ORDINALITY AS r(conversation_id, after_seq, until_seq, lim, ord)
    CROSS JOIN LATERAL (
      SELECT * FROM messages x
       WHERE x.conversation_id = r.conversation_id AND x.seq > r.after_seq AND x.seq <= r.until_seq
       ORDER BY x.seq LIMIT r.lim
    ) m
    JOIN users u ON u.id = m.sender_id
    ORDER BY r.ord, m.seq`,
};

/** Largest `seq` (the column is an integer): the end of a range without one. */
const MAX_SEQ = 2 ** 31 - 1;

/** One range of {@link selectRanges}. */
export interface RangeRequest {
  conversationId: string;
  afterSeq: number;
  limit: number;
  /** Inclusive; none: up to the newest. */
  untilSeq?: number;
}

/**
 * For each range, the messages of its conversation with `afterSeq < seq <= untilSeq`, oldest
 * first, at most `limit`, senders attached (what live subscriptions replay or fill a gap with),
 * in one statement for all of them.
 */
export async function selectRanges(sql: Sql, ranges: readonly RangeRequest[]): Promise<Message[][]> {
  const rows = await sql<MessageRow & { range: number }>(RANGES, [
    ranges.map((r) => r.conversationId),
    ranges.map((r) => r.afterSeq),
    ranges.map((r) => r.untilSeq ?? MAX_SEQ),
    ranges.map((r) => r.limit),
  ]);
  const out = ranges.map((): Message[] => []);
  for (const row of rows) out[row.range - 1].push(toMessage(row, ranges[row.range - 1].conversationId));
  return out;
}

/**
 * The history page statement of one shape: newest or oldest first, from the start or after a
 * seq, with or without the membership check. Parameters: $1 conversation id, $2 row limit, then
 * the seq (if `after`), then the viewer id (if `member`).
 */
const pageStatements = new Map<string, Statement>();
function pageStatement(newestFirst: boolean, after: boolean, member: boolean): Statement {
  const name = `parley_history_${newestFirst ? 'desc' : 'asc'}${after ? '_after' : ''}${member ? '_member' : ''}`;
  let statement = pageStatements.get(name);
  if (!statement) {
    let where = 'm.conversation_id = $1';
    if (after) where += newestFirst ? ' AND m.seq < $3' : ' AND m.seq > $3';
    if (member)
      where += ` AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = $1 AND p.user_id = $${after ? 4 : 3})`;
    pageStatements.set(name, (statement = { name, text: selectMessages(where, newestFirst ? 'DESC' : 'ASC', '$2') }));
  }
  return statement;
}

/**
 * A keyset page of history, senders attached: `limit` messages by seq, after `afterSeq` when
 * given; with `viewerId`, none unless the viewer is a participant.
 */
export async function selectPage(
  sql: Sql,
  p: { conversationId: string; limit: number; newestFirst: boolean; afterSeq?: number; viewerId?: string },
): Promise<Message[]> {
  const params: unknown[] = [p.conversationId, p.limit];
  if (p.afterSeq !== undefined) params.push(p.afterSeq);
  if (p.viewerId !== undefined) params.push(p.viewerId);
  const statement = pageStatement(p.newestFirst, p.afterSeq !== undefined, p.viewerId !== undefined);
  const rows = await sql<MessageRow>(statement, params);
  return rows.map((row) => toMessage(row, p.conversationId));
}

/** The message a sender stored with a clientMessageId, sender attached, or `null`. */
export async function selectByClientMessageId(
  sql: Sql,
  senderId: string,
  clientMessageId: string,
): Promise<Message | null> {
  const rows = await sql<MessageRow & { conversationId: string }>(
    `SELECT ${MESSAGE_WITH_SENDER}, m.conversation_id AS "conversationId" FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.sender_id = $1 AND m.client_message_id = $2`,
    [senderId, clientMessageId],
  );
  return rows.length ? toMessage(rows[0], rows[0].conversationId) : null;
}

/** The newest message of each conversation (by `conversations.last_seq`), senders attached; empty ones are missing. */
export async function selectLastMessages(sql: Sql, conversationIds: readonly string[]): Promise<Message[]> {
  const rows = await sql<MessageRow & { conversationId: string }>(
    `SELECT ${MESSAGE_WITH_SENDER}, m.conversation_id AS "conversationId"
       FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
       JOIN users u ON u.id = m.sender_id
      WHERE c.id = ANY($1::uuid[])`,
    [conversationIds],
  );
  return rows.map((row) => toMessage(row, row.conversationId));
}

/** The messages among `ids`, senders attached, unknown ids missing, in no particular order. */
export async function selectMessagesByIds(sql: Sql, ids: readonly string[]): Promise<Message[]> {
  const rows = await sql<MessageRow & { conversationId: string }>(
    `SELECT ${MESSAGE_WITH_SENDER}, m.conversation_id AS "conversationId"
       FROM messages m JOIN users u ON u.id = m.sender_id
      WHERE m.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((row) => toMessage(row, row.conversationId));
}
