import type { Statement } from '../../db/prepared';
import type { Sql } from '../../db/sql';
import { Conversation } from './conversation.entity';
import { Participant } from './participant.entity';

/** The columns of a `conversations` row `c`, aliased to the {@link Conversation} fields. */
const CONVERSATION_COLUMNS = `c.id, c.participant_key AS "participantKey", c.is_group AS "isGroup", c.title,
  c.last_seq AS "lastSeq", c.last_activity_at AS "lastActivityAt", c.created_at AS "createdAt"`;

/** A row of {@link CONVERSATION_COLUMNS} (timestamptz columns arrive as `Date`). */
type ConversationRow = Pick<
  Conversation,
  'id' | 'participantKey' | 'isGroup' | 'title' | 'lastSeq' | 'lastActivityAt' | 'createdAt'
>;

const toConversation = (row: ConversationRow): Conversation => Object.assign(new Conversation(), row);

/** The ids among `ids` that are users (each at most once, in no particular order). */
export async function selectExistingUserIds(sql: Sql, ids: readonly string[]): Promise<string[]> {
  const rows = await sql<{ id: string }>('SELECT id FROM users WHERE id = ANY($1::uuid[])', [ids]);
  return rows.map((r) => r.id);
}

/**
 * Creates the conversation of a participant key unless one exists. On a conflict PostgreSQL waits
 * for the transaction that inserted the key first and then skips the row, so concurrent creators
 * of one set make one conversation.
 * @returns the new conversation's id, or `null` when the key had one already.
 */
export async function insertConversationIfAbsent(
  sql: Sql,
  c: { participantKey: string; isGroup: boolean; title: string | null },
): Promise<string | null> {
  const rows = await sql<{ id: string }>(
    `INSERT INTO conversations (participant_key, is_group, title) VALUES ($1, $2, $3)
     ON CONFLICT (participant_key) DO NOTHING RETURNING id`,
    [c.participantKey, c.isGroup, c.title],
  );
  return rows.length === 1 ? rows[0].id : null;
}

/** Adds `userIds` as the participants of a new conversation. */
export async function insertParticipants(sql: Sql, conversationId: string, userIds: readonly string[]): Promise<void> {
  await sql(`INSERT INTO conversation_participants (conversation_id, user_id) SELECT $1, unnest($2::uuid[])`, [
    conversationId,
    userIds,
  ]);
}

/** The conversation of a participant key, or `null`. */
export async function selectConversationByKey(sql: Sql, participantKey: string): Promise<Conversation | null> {
  const rows = await sql<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c WHERE c.participant_key = $1`,
    [participantKey],
  );
  return rows.length ? toConversation(rows[0]) : null;
}

/** The conversation `id` if `userId` is one of its participants, else `null`. */
export async function selectConversationOfParticipant(
  sql: Sql,
  id: string,
  userId: string,
): Promise<Conversation | null> {
  const rows = await sql<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
       JOIN conversation_participants p ON p.conversation_id = c.id AND p.user_id = $2
      WHERE c.id = $1`,
    [id, userId],
  );
  return rows.length ? toConversation(rows[0]) : null;
}

/** Whether a conversation with this id exists. */
export async function conversationExists(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql('SELECT 1 FROM conversations WHERE id = $1', [id]);
  return rows.length > 0;
}

/** The conversations among `ids` (unknown ids are missing), in no particular order. */
export async function selectConversationsByIds(sql: Sql, ids: readonly string[]): Promise<Conversation[]> {
  const rows = await sql<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map(toConversation);
}

/**
 * A keyset page of a user's conversations, most recent activity first (ties by id, descending):
 * at most `limit`, after the (`lastActivityAt`, `id`) position when given.
 * @param p.after - the position of the previous page's last row; `at` is an ISO-8601 time.
 */
export async function selectConversationPage(
  sql: Sql,
  p: { userId: string; limit: number; after?: { at: string; id: string } },
): Promise<Conversation[]> {
  const params: unknown[] = [p.userId, p.limit];
  let after = '';
  if (p.after) {
    params.push(p.after.at, p.after.id);
    after = 'WHERE (c.last_activity_at, c.id) < ($3::timestamptz, $4::uuid)';
  }
  const rows = await sql<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations c
       JOIN conversation_participants p ON p.conversation_id = c.id AND p.user_id = $1
     ${after}
     ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2`,
    params,
  );
  return rows.map(toConversation);
}

/** The participant ids of a conversation, sorted (empty for an unknown conversation). */
export async function selectParticipantIds(sql: Sql, conversationId: string): Promise<string[]> {
  const rows = await sql<{ user_id: string }>(
    'SELECT user_id FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id',
    [conversationId],
  );
  return rows.map((r) => r.user_id);
}

/** A prepared statement: every notification job runs it (the participants of its messages' conversations). */
const SELECT_PARTICIPANTS_OF: Statement = {
  name: 'parley_participants_of',
  text: `SELECT p.conversation_id AS "conversationId", p.user_id AS "userId", p.joined_at AS "joinedAt"
           FROM conversation_participants p WHERE p.conversation_id = ANY($1::uuid[]) ORDER BY p.user_id`,
};

/** The participant rows of the conversations among `conversationIds`, sorted by user id. */
export async function selectParticipantsOf(sql: Sql, conversationIds: readonly string[]): Promise<Participant[]> {
  const rows = await sql<Pick<Participant, 'conversationId' | 'userId' | 'joinedAt'>>(SELECT_PARTICIPANTS_OF, [
    conversationIds,
  ]);
  return rows.map((row) => Object.assign(new Participant(), row));
}

/** $1 user ids: each user's conversations with their `last_seq`. */
const POSITIONS_OF: Statement = {
  name: 'parley_positions_of',
  text: `SELECT p.user_id AS "userId", c.id, c.last_seq AS "lastSeq" FROM conversation_participants p
    JOIN conversations c ON c.id = p.conversation_id WHERE p.user_id = ANY($1::uuid[])`,
};

/**
 * Id and `last_seq` of every conversation of each of `userIds`, in no particular order: what
 * the subscriptions set up in one event-loop turn read together (see ConversationsService).
 */
export function selectPositionsOf(
  sql: Sql,
  userIds: readonly string[],
): Promise<Array<{ userId: string; id: string; lastSeq: number }>> {
  return sql<{ userId: string; id: string; lastSeq: number }>(POSITIONS_OF, [userIds]);
}

/** $1 conversation ids. */
const LAST_SEQS: Statement = {
  name: 'parley_last_seqs',
  text: 'SELECT id, last_seq FROM conversations WHERE id = ANY($1::uuid[])',
};

/** Id and `last_seq` of the conversations among `ids` (unknown ids are missing), in no particular order. */
export function selectLastSeqs(sql: Sql, ids: readonly string[]): Promise<Array<{ id: string; last_seq: number }>> {
  return sql<{ id: string; last_seq: number }>(LAST_SEQS, [ids]);
}
