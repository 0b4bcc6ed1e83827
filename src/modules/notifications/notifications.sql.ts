import type { Statement } from '../../db/prepared';
import type { Sql } from '../../db/sql';
import { Notification, NotificationKind, NotifyWhen } from './notifications.types';

/** The columns of a `notifications` row `n`, aliased to the {@link Notification} fields. */
const NOTIFICATION_COLUMNS = `n.id, n.kind, n.conversation_id AS "conversationId", n.message_id AS "messageId",
  n.created_at AS "createdAt", n.read_at AS "readAt"`;

const toNotification = (row: Notification): Notification => Object.assign(new Notification(), row);

/** A user who could be notified: their preference and whether they muted the conversation. */
export interface Candidate {
  userId: string;
  notifyWhen: NotifyWhen;
  muted: boolean;
}

/** A candidate of one conversation (a batch of messages asks for many conversations at once). */
export interface CandidateIn extends Candidate {
  conversationId: string;
}

const SELECT_CANDIDATES_OF: Statement = {
  name: 'parley_notify_candidates_of',
  text: `
  SELECT p.user_id AS "userId", p.conversation_id AS "conversationId",
         COALESCE(np.notify_when, 'WHEN_AWAY') AS "notifyWhen",
         EXISTS (SELECT 1 FROM conversation_mutes m
                  WHERE m.user_id = p.user_id AND m.conversation_id = p.conversation_id) AS muted
    FROM conversation_participants p
    LEFT JOIN notification_preferences np ON np.user_id = p.user_id
   WHERE p.conversation_id = ANY($1::uuid[])`,
};

/**
 * Every participant of the conversations among `conversationIds`, with their preference and
 * whether they muted the conversation, in one statement (in no particular order). Reads the
 * conversations module's participants table, to keep a batch's decision to one statement.
 */
export function selectCandidatesOf(sql: Sql, conversationIds: readonly string[]): Promise<CandidateIn[]> {
  return sql<CandidateIn>(SELECT_CANDIDATES_OF, [conversationIds]);
}

const INSERT_MESSAGE_NOTIFICATIONS: Statement = {
  name: 'parley_notify_insert_messages',
  // Each message is read by its own primary-key lookup (a scalar subquery is planned per row, for
  // one row), not joined: the generic plan of a join was made once on the statistics of a small
  // messages table and kept a sequential scan of it as the table grew.
  text: `
  WITH m AS MATERIALIZED (
    SELECT x.id, (SELECT created_at FROM messages WHERE id = x.id) AS created_at FROM unnest($4::uuid[]) AS x(id)
  )
  INSERT INTO notifications (id, recipient_id, kind, conversation_id, message_id, created_at, pushed_at)
  SELECT notification_id('NEW_MESSAGE', k.recipient_id, k.message_id), k.recipient_id, 'NEW_MESSAGE',
         k.conversation_id, k.message_id, m.created_at, CASE WHEN $5::boolean THEN NULL ELSE m.created_at END
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS k(recipient_id, conversation_id, message_id)
    JOIN m ON m.id = k.message_id
   WHERE m.created_at IS NOT NULL
  ON CONFLICT (id) DO NOTHING
  RETURNING id, recipient_id AS "recipientId", conversation_id AS "conversationId", message_id AS "messageId",
            created_at AS "createdAt"`,
};

/**
 * Stores a NEW_MESSAGE notification for each (`recipientIds[i]`, `conversationIds[i]`,
 * `messageIds[i]`) in one statement; one a recipient has already (a retried job: same derived id)
 * is skipped. A notification is created when its message was: the messages of one job keep their
 * order. Without `external` delivery (no channel) the rows are stored as handed over already,
 * which keeps them out of the index of those waiting for a channel.
 * @returns the notifications stored now.
 */
export async function insertMessageNotifications(
  sql: Sql,
  n: {
    recipientIds: readonly string[];
    conversationIds: readonly string[];
    messageIds: readonly string[];
    external: boolean;
  },
): Promise<Array<{ recipientId: string; notification: Notification }>> {
  const rows = await sql<{
    id: string;
    recipientId: string;
    conversationId: string;
    messageId: string;
    createdAt: Date;
  }>(INSERT_MESSAGE_NOTIFICATIONS, [
    n.recipientIds,
    n.conversationIds,
    n.messageIds,
    [...new Set(n.messageIds)],
    n.external,
  ]);
  return rows.map((r) => ({
    recipientId: r.recipientId,
    notification: toNotification({
      id: r.id,
      kind: NotificationKind.NEW_MESSAGE,
      conversationId: r.conversationId,
      messageId: r.messageId,
      createdAt: r.createdAt,
      readAt: null,
    }),
  }));
}

const INSERT_NOTIFICATIONS: Statement = {
  name: 'parley_notify_insert',
  text: `
  INSERT INTO notifications (id, recipient_id, kind, conversation_id, message_id, created_at)
  SELECT notification_id($2::text, r.id, COALESCE($4::uuid, $3::uuid)), r.id, $2, $3, $4, date_trunc('milliseconds', clock_timestamp())
    FROM unnest($1::uuid[]) AS r(id)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, recipient_id AS "recipientId", created_at AS "createdAt"`,
};

/**
 * Stores one notification for each recipient in one statement. A recipient who has it already (a
 * retried job: the id is derived from the kind, the recipient and the message, or the
 * conversation for ADDED_TO_CONVERSATION) gets none. @returns the notifications stored now.
 */
export async function insertNotifications(
  sql: Sql,
  n: { recipientIds: readonly string[]; kind: NotificationKind; conversationId: string; messageId: string | null },
): Promise<Array<{ recipientId: string; notification: Notification }>> {
  const rows = await sql<{ id: string; recipientId: string; createdAt: Date }>(INSERT_NOTIFICATIONS, [
    n.recipientIds,
    n.kind,
    n.conversationId,
    n.messageId,
  ]);
  return rows.map((r) => ({
    recipientId: r.recipientId,
    notification: toNotification({
      id: r.id,
      kind: n.kind,
      conversationId: n.conversationId,
      messageId: n.messageId,
      createdAt: r.createdAt,
      readAt: null,
    }),
  }));
}

/** A page of a user's notifications, newest first (ties by id), after a keyset position. */
export async function selectNotificationPage(
  sql: Sql,
  q: { userId: string; limit: number; unreadOnly: boolean; after?: { at: string; id: string } },
): Promise<Notification[]> {
  const rows = await sql<Notification>(
    `SELECT ${NOTIFICATION_COLUMNS} FROM notifications n
      WHERE n.recipient_id = $1 AND ($2::boolean IS FALSE OR n.read_at IS NULL)
        AND ($3::timestamptz IS NULL OR (n.created_at, n.id) < ($3::timestamptz, $4::uuid))
      ORDER BY n.created_at DESC, n.id DESC LIMIT $5`,
    [q.userId, q.unreadOnly, q.after?.at ?? null, q.after?.id ?? null, q.limit],
  );
  return rows.map(toNotification);
}

/** How many of a user's notifications are unread. */
export async function countUnread(sql: Sql, userId: string): Promise<number> {
  const rows = await sql<{ count: number }>(
    'SELECT count(*)::int AS count FROM notifications WHERE recipient_id = $1 AND read_at IS NULL',
    [userId],
  );
  return rows[0].count;
}

/**
 * Marks the user's unread notifications among `ids` (all of them for `null`) read. Ids of others'
 * notifications match nothing. @returns how many went from unread to read.
 */
export async function markRead(sql: Sql, userId: string, ids: readonly string[] | null): Promise<number> {
  const rows = await sql<{ count: number }>(
    `WITH changed AS (
       UPDATE notifications SET read_at = now()
        WHERE recipient_id = $1 AND read_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
       RETURNING 1)
     SELECT count(*)::int AS count FROM changed`,
    [userId, ids],
  );
  return rows[0].count;
}

/** A user's stored preference (`null`: none stored, the default applies) and muted conversation ids. */
export async function selectPreferences(
  sql: Sql,
  userId: string,
): Promise<{ notifyWhen: NotifyWhen | null; mutedConversationIds: string[] }> {
  const rows = await sql<{ notifyWhen: NotifyWhen | null; muted: string[] }>(
    `SELECT (SELECT notify_when FROM notification_preferences WHERE user_id = $1) AS "notifyWhen",
            ARRAY(SELECT conversation_id::text FROM conversation_mutes WHERE user_id = $1 ORDER BY conversation_id) AS muted`,
    [userId],
  );
  return { notifyWhen: rows[0].notifyWhen, mutedConversationIds: rows[0].muted };
}

/** Stores a user's preference. */
export async function upsertPreference(sql: Sql, userId: string, notifyWhen: NotifyWhen): Promise<void> {
  await sql(
    `INSERT INTO notification_preferences (user_id, notify_when) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET notify_when = EXCLUDED.notify_when`,
    [userId, notifyWhen],
  );
}

/** Mutes or unmutes a conversation for a user (idempotent). */
export async function setMuted(sql: Sql, userId: string, conversationId: string, muted: boolean): Promise<void> {
  await sql(
    muted
      ? `INSERT INTO conversation_mutes (user_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
      : `DELETE FROM conversation_mutes WHERE user_id = $1 AND conversation_id = $2`,
    [userId, conversationId],
  );
}

/** A stored Web Push subscription. */
export interface PushSubscriptionRow {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** Stores a subscription for a user; the same endpoint again (a browser belongs to one user) takes the new user and keys. */
export async function upsertPushSubscription(
  sql: Sql,
  userId: string,
  s: { endpoint: string; p256dh: string; auth: string },
): Promise<void> {
  await sql(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
     ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth`,
    [userId, s.endpoint, s.p256dh, s.auth],
  );
}

/** Removes a user's subscription. @returns whether there was one. */
export async function deletePushSubscription(sql: Sql, userId: string, endpoint: string): Promise<boolean> {
  // A CTE: TypeORM answers a bare DELETE ... RETURNING with [rows, count], not rows.
  const rows = await sql<{ n: number }>(
    `WITH gone AS (DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2 RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [userId, endpoint],
  );
  return rows[0].n > 0;
}

/** Removes a subscription by id (its push service answered 404 or 410). */
export async function deletePushSubscriptionById(sql: Sql, id: string): Promise<void> {
  await sql('DELETE FROM push_subscriptions WHERE id = $1', [id]);
}

/** A user's Web Push subscriptions. */
export function selectPushSubscriptions(sql: Sql, userId: string): Promise<PushSubscriptionRow[]> {
  return sql<PushSubscriptionRow>('SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1', [
    userId,
  ]);
}

/** A NEW_MESSAGE notification not yet handed to an external channel. */
export interface UnpushedRow {
  id: string;
  messageId: string;
}

/**
 * A recipient's NEW_MESSAGE notifications of one conversation not yet handed to an external
 * channel, oldest first (the coalescing window's content).
 */
export function selectUnpushed(sql: Sql, recipientId: string, conversationId: string): Promise<UnpushedRow[]> {
  return sql<UnpushedRow>(
    `SELECT id, message_id AS "messageId" FROM notifications
      WHERE recipient_id = $1 AND conversation_id = $2 AND pushed_at IS NULL AND kind = 'NEW_MESSAGE'
      ORDER BY created_at, id`,
    [recipientId, conversationId],
  );
}

/** Marks notifications handed to the external channels (or dropped as read). */
export async function markPushed(sql: Sql, ids: readonly string[]): Promise<void> {
  await sql('UPDATE notifications SET pushed_at = now() WHERE id = ANY($1::uuid[]) AND pushed_at IS NULL', [ids]);
}
