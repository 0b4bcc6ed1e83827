import type { Sql } from '../../db/sql';
import { User } from '../users/user.entity';

/** A user row with the entity's camelCase field names. */
interface UserRow {
  id: string;
  username: string;
  displayName: string;
  createdAt: Date;
  passwordHash?: string;
}

/**
 * Creates a user.
 * @returns the stored user (without `passwordHash`).
 * @throws the driver's unique violation `users_username_lower_key` when the username is taken
 *   (case-insensitively).
 */
export async function insertUser(
  sql: Sql,
  u: { username: string; displayName: string; passwordHash: string },
): Promise<User> {
  const rows = await sql<UserRow>(
    `INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3)
     RETURNING id, username, display_name AS "displayName", created_at AS "createdAt"`,
    [u.username, u.displayName, u.passwordHash],
  );
  return Object.assign(new User(), rows[0]);
}

/** The user with this username (compared case-insensitively), `passwordHash` included, or `null`. */
export async function selectUserWithPassword(sql: Sql, username: string): Promise<User | null> {
  const rows = await sql<Required<UserRow>>(
    `SELECT id, username, display_name AS "displayName", password_hash AS "passwordHash", created_at AS "createdAt"
       FROM users WHERE lower(username) = lower($1)`,
    [username],
  );
  return rows.length ? Object.assign(new User(), rows[0]) : null;
}

/** The user with this id (without `passwordHash`), or `null`. */
export async function selectUserById(sql: Sql, id: string): Promise<User | null> {
  const rows = await sql<UserRow>(
    `SELECT id, username, display_name AS "displayName", created_at AS "createdAt" FROM users WHERE id = $1`,
    [id],
  );
  return rows.length ? Object.assign(new User(), rows[0]) : null;
}

/** Deletes the sessions whose `expires_at` has passed (the `sessions` table of the database store). */
export async function deleteExpiredSessions(sql: Sql): Promise<void> {
  await sql('DELETE FROM sessions WHERE expires_at < now()');
}

/** Stores a session that ends `ttlMs` milliseconds from now (the database's clock). */
export async function insertSession(sql: Sql, s: { id: string; userId: string; ttlMs: number }): Promise<void> {
  await sql(
    `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::double precision / 1000))`,
    [s.id, s.userId, s.ttlMs],
  );
}

/** The session's user and the ms it has left, or `null` when it does not exist or has expired. */
export async function selectLiveSession(sql: Sql, id: string): Promise<{ userId: string; ttlMs: number } | null> {
  const rows = await sql<{ userId: string; ttlMs: number }>(
    `SELECT user_id AS "userId", (extract(epoch FROM expires_at - now()) * 1000)::float8 AS "ttlMs"
       FROM sessions WHERE id = $1 AND expires_at > now()`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * The ids among `ids` of sessions that exist (one query for all of them), expired or not: a token's
 * expiry is checked on the token itself.
 */
export async function selectExistingSessionIds(sql: Sql, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string }>('SELECT id FROM sessions WHERE id = ANY($1::uuid[])', [ids]);
  return rows.map((r) => r.id);
}

/**
 * Moves a live session's end to `ttlMs` milliseconds from now (the database's clock).
 * @returns `false` when the session does not exist or has expired (nothing changes).
 */
export async function extendSession(sql: Sql, id: string, ttlMs: number): Promise<boolean> {
  // A SELECT around the UPDATE: TypeORM answers a bare UPDATE with [rows, count], not rows.
  const rows = await sql<{ n: number }>(
    `WITH extended AS (
       UPDATE sessions SET expires_at = now() + make_interval(secs => $2::double precision / 1000)
        WHERE id = $1 AND expires_at > now() RETURNING 1)
     SELECT count(*)::int AS n FROM extended`,
    [id, ttlMs],
  );
  return rows[0]?.n === 1;
}

/** Deletes a session (nothing happens when there is none). */
export async function deleteSession(sql: Sql, id: string): Promise<void> {
  await sql('DELETE FROM sessions WHERE id = $1', [id]);
}
