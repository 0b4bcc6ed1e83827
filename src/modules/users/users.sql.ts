import type { Sql } from '../../db/sql';
import { User } from './user.entity';

/** The public columns of a user `u`, aliased to the entity's camelCase fields (never `password_hash`). */
const USER_COLUMNS = `u.id, u.username, u.display_name AS "displayName", u.created_at AS "createdAt"`;

/** A row of {@link USER_COLUMNS}. */
interface UserRow {
  id: string;
  username: string;
  displayName: string;
  createdAt: Date;
}

const toUser = (row: UserRow): User => Object.assign(new User(), row);

/** The users with these ids, in no particular order; unknown ids are missing. */
export async function selectUsersByIds(sql: Sql, ids: readonly string[]): Promise<User[]> {
  const rows = await sql<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ANY($1::uuid[])`, [ids]);
  return rows.map(toUser);
}

/** `search` as a LIKE pattern matching lower-cased values that start with it (`\`, `%`, `_` escaped). */
const likePrefix = (search: string): string => search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';

/**
 * A keyset page of the directory, ordered by `(lower(username), id)`.
 * @param p.limit - rows to return at most.
 * @param p.search - keeps users whose username or displayName starts with it, case-insensitively.
 * @param p.after - the `(lower(username), id)` to start after.
 */
export async function selectUserPage(
  sql: Sql,
  p: { limit: number; search?: string; after?: { name: string; id: string } },
): Promise<User[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (p.search !== undefined) {
    values.push(likePrefix(p.search));
    where.push(`(lower(u.username) LIKE $${values.length} OR lower(u.display_name) LIKE $${values.length})`);
  }
  if (p.after !== undefined) {
    values.push(p.after.name, p.after.id);
    where.push(`(lower(u.username), u.id) > ($${values.length - 1}, $${values.length})`);
  }
  values.push(p.limit);
  const rows = await sql<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY lower(u.username), u.id LIMIT $${values.length}`,
    values,
  );
  return rows.map(toUser);
}
