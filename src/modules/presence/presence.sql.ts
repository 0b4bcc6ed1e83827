import type { Statement } from '../../db/prepared';
import type { Sql } from '../../db/sql';

/** A user's `users.last_seen_at` (`null`: never connected). */
export interface LastSeenRow {
  id: string;
  lastSeenAt: Date | null;
}

/**
 * The users among `userIds` who share a conversation with `viewerId`, the viewer included when
 * they are in any conversation. Each id at most once, in no particular order.
 */
export async function selectContactsAmong(sql: Sql, viewerId: string, userIds: readonly string[]): Promise<string[]> {
  const rows = await sql<{ user_id: string }>(
    `SELECT DISTINCT b.user_id FROM conversation_participants a
     JOIN conversation_participants b ON b.conversation_id = a.conversation_id
     WHERE a.user_id = $1 AND b.user_id = ANY($2::uuid[])`,
    [viewerId, userIds],
  );
  return rows.map((r) => r.user_id);
}

/**
 * Everyone who shares a conversation with `userId`, the user included (when in any conversation).
 * Each id at most once, in no particular order.
 */
export async function selectContacts(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql<{ user_id: string }>(
    `SELECT DISTINCT b.user_id FROM conversation_participants a
     JOIN conversation_participants b ON b.conversation_id = a.conversation_id WHERE a.user_id = $1`,
    [userId],
  );
  return rows.map((r) => r.user_id);
}

/** $1 user ids, $2 their times. A CTE, because TypeORM answers a bare UPDATE with [rows, count] rather than rows. */
const UPDATE_LAST_SEEN: Statement = {
  name: 'parley_update_last_seen',
  text: `WITH moved AS (
       UPDATE users u SET last_seen_at = GREATEST(u.last_seen_at, v.at)
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at) WHERE u.id = v.id
       RETURNING u.id, u.last_seen_at
     ) SELECT id, last_seen_at AS "lastSeenAt" FROM moved`,
};

/**
 * Moves `users.last_seen_at` of each user forward to the paired time (never back).
 * @param userIds - the users; `seenAt[i]` is the time for `userIds[i]`.
 * @returns the stored `last_seen_at` of each existing user, in no particular order.
 */
export function updateLastSeen(sql: Sql, userIds: readonly string[], seenAt: readonly Date[]): Promise<LastSeenRow[]> {
  return sql<LastSeenRow>(UPDATE_LAST_SEEN, [userIds, seenAt.map((at) => at.toISOString())]);
}

/** `users.last_seen_at` of each existing user among `userIds` (unknown ids have no row). */
export function selectLastSeen(sql: Sql, userIds: readonly string[]): Promise<LastSeenRow[]> {
  return sql<LastSeenRow>('SELECT id, last_seen_at AS "lastSeenAt" FROM users WHERE id = ANY($1::uuid[])', [userIds]);
}
