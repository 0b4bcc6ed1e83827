import type { Statement } from '../../db/prepared';
import type { Sql } from '../../db/sql';

/** Records that `blockerId` blocks `blockedId` (idempotent). @returns whether `blockedId` exists. */
export async function insertBlock(sql: Sql, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await sql<{ ok: number }>(
    `WITH target AS (SELECT id FROM users WHERE id = $2),
          ins AS (INSERT INTO user_blocks (blocker_id, blocked_id) SELECT $1, id FROM target ON CONFLICT DO NOTHING)
     SELECT 1 AS ok FROM target`,
    [blockerId, blockedId],
  );
  return rows.length > 0;
}

/** Removes a block. @returns whether there was one. */
export async function deleteBlock(sql: Sql, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await sql(`DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2 RETURNING 1`, [
    blockerId,
    blockedId,
  ]);
  return rows.length > 0;
}

/** Whether a user with `id` exists. */
export async function userExists(sql: Sql, id: string): Promise<boolean> {
  return (await sql(`SELECT 1 FROM users WHERE id = $1`, [id])).length > 0;
}

/** The users `blockerId` blocks, most recent first. */
export async function selectBlockedIds(sql: Sql, blockerId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    `SELECT blocked_id AS id FROM user_blocks WHERE blocker_id = $1 ORDER BY created_at DESC, blocked_id`,
    [blockerId],
  );
  return rows.map((r) => r.id);
}

/** Which of `userIds` block `senderId`. */
export async function selectBlockersAmong(sql: Sql, userIds: readonly string[], senderId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    `SELECT blocker_id AS id FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::uuid[])`,
    [senderId, userIds],
  );
  return rows.map((r) => r.id);
}

/** A prepared statement: every notification job runs it (its recipients against their senders). */
const SELECT_BLOCKING_PAIRS: Statement = {
  name: 'parley_blocking_pairs',
  text: `SELECT b.blocker_id || ':' || b.blocked_id AS pair
           FROM user_blocks b JOIN unnest($1::uuid[], $2::uuid[]) AS k(blocker, blocked)
             ON b.blocker_id = k.blocker AND b.blocked_id = k.blocked`,
};

/** The pairs among (`blockerIds[i]`, `blockedIds[i]`) where the first blocks the second, as `blocker:blocked`. */
export async function selectBlockingPairs(
  sql: Sql,
  blockerIds: readonly string[],
  blockedIds: readonly string[],
): Promise<string[]> {
  const rows = await sql<{ pair: string }>(SELECT_BLOCKING_PAIRS, [blockerIds, blockedIds]);
  return rows.map((r) => r.pair);
}
