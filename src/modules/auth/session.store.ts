import type Redis from 'ioredis';

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

/** Sessions in this process (embedded default, one instance). */
export function createMemorySessionStore(): SessionStore {
  const expiries = new Map<string, number>();
  return {
    async create(sessionId, _userId, ttlMs) {
      expiries.set(sessionId, Date.now() + ttlMs);
    },
    async isActive(sessionId) {
      const until = expiries.get(sessionId);
      if (until === undefined) return false;
      if (until <= Date.now()) {
        expiries.delete(sessionId);
        return false;
      }
      return true;
    },
    async revoke(sessionId) {
      expiries.delete(sessionId);
    },
  };
}
