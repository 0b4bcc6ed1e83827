import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';

/**
 * Live sessions: a token is valid only while its session is here. Logout deletes it, which
 * revokes the token at once on every instance (they all read the same store).
 */
export interface SessionStore {
  /** @param ttlMs - the session ends by itself after this many ms (the token's lifetime). */
  create(sessionId: string, userId: string, ttlMs: number): Promise<void>;
  /** `true` while the session exists and has not expired. */
  isActive(sessionId: string): Promise<boolean>;
  revoke(sessionId: string): Promise<void>;
}

/** Sessions in Redis as `<prefix>session:<id>` keys with a PX expiry. */
export function createRedisSessionStore(redis: Redis, prefix: string): SessionStore {
  const key = (id: string) => `${prefix}session:${id}`;
  return {
    async create(sessionId, userId, ttlMs) {
      await redis.set(key(sessionId), userId, 'PX', ttlMs);
    },
    async isActive(sessionId) {
      return (await redis.exists(key(sessionId))) === 1;
    },
    async revoke(sessionId) {
      await redis.del(key(sessionId));
    },
  };
}

/**
 * Sessions in PostgreSQL (`sessions` table), for deployments without Redis such as the embedded
 * default, so that tokens survive a restart. Expired rows are deleted as new sessions are made.
 */
export function createDatabaseSessionStore(ds: DataSource): SessionStore {
  return {
    async create(sessionId, userId, ttlMs) {
      await ds.query('DELETE FROM sessions WHERE expires_at < now()');
      await ds.query(
        `INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::double precision / 1000))`,
        [sessionId, userId, ttlMs],
      );
    },
    async isActive(sessionId) {
      const rows = await ds.query('SELECT 1 FROM sessions WHERE id = $1 AND expires_at > now()', [sessionId]);
      return rows.length === 1;
    },
    async revoke(sessionId) {
      await ds.query('DELETE FROM sessions WHERE id = $1', [sessionId]);
    },
  };
}
