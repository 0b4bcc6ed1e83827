import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/sql';
import { deleteExpiredSessions, deleteSession, extendSession, insertSession, selectSessionIsLive } from './auth.sql';

/**
 * Live sessions: a token is valid only while its session is here. Logout deletes it, which
 * revokes the token at once on every instance (they all read the same store).
 */
export interface SessionStore {
  /** @param ttlMs - the session ends by itself after this many ms (the token's lifetime). */
  create(sessionId: string, userId: string, ttlMs: number): Promise<void>;
  /**
   * `true` while the session exists and has not expired.
   * @param options.remember - a cache in front may keep a live answer (see {@link SessionCache}).
   */
  isActive(sessionId: string, options?: { remember?: boolean }): Promise<boolean>;
  /**
   * Moves a live session's end to `ttlMs` ms from now (refreshToken).
   * @returns `false` when the session is gone (revoked or expired).
   */
  extend(sessionId: string, ttlMs: number): Promise<boolean>;
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
    async extend(sessionId, ttlMs) {
      return (await redis.pexpire(key(sessionId), ttlMs)) === 1;
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
export function createDatabaseSessionStore(db: Db): SessionStore {
  return {
    async create(sessionId, userId, ttlMs) {
      await deleteExpiredSessions(db.sql);
      await insertSession(db.sql, { id: sessionId, userId, ttlMs });
    },
    isActive(sessionId) {
      return selectSessionIsLive(db.sql, sessionId);
    },
    extend(sessionId, ttlMs) {
      return extendSession(db.sql, sessionId, ttlMs);
    },
    async revoke(sessionId) {
      await deleteSession(db.sql, sessionId);
    },
  };
}

/**
 * A {@link SessionStore} in front of another that remembers, for `ttlMs`, the sessions it found
 * live, so that an HTTP request does not cost a round trip to the store. Revocation stays
 * immediate: {@link revoke} and {@link forget} (called for every `sessionRevoked` event, which
 * every instance receives) evict the session and remember it as revoked, so a lookup that was in
 * flight cannot re-admit it. The TTL bounds the one gap left: an instance that misses a
 * revocation event (cut off from pub/sub) trusts that session for at most `ttlMs` more. Token
 * expiry is checked on the token itself.
 */
export class SessionCache implements SessionStore {
  private readonly live: LRUCache<string, true>;
  private readonly revoked: LRUCache<string, true>;

  /**
   * @param options.ttlMs - how long a live answer is trusted, ms (0 disables the cache).
   * @param options.max - most sessions remembered (each of the two caches).
   */
  constructor(
    private readonly store: SessionStore,
    private readonly options: { ttlMs: number; max?: number },
  ) {
    const max = options.max ?? 100_000;
    this.live = new LRUCache({ max, ttl: Math.max(options.ttlMs, 1), ttlAutopurge: false });
    this.revoked = new LRUCache({ max, ttl: Math.max(options.ttlMs, 1) * 2, ttlAutopurge: false });
  }

  async create(sessionId: string, userId: string, ttlMs: number): Promise<void> {
    await this.store.create(sessionId, userId, ttlMs);
  }

  async isActive(sessionId: string, options: { remember?: boolean } = {}): Promise<boolean> {
    if (this.revoked.has(sessionId)) return false;
    if (this.options.ttlMs > 0 && this.live.has(sessionId)) return true;
    const active = await this.store.isActive(sessionId);
    if (active && options.remember && this.options.ttlMs > 0 && !this.revoked.has(sessionId))
      this.live.set(sessionId, true);
    return active;
  }

  async extend(sessionId: string, ttlMs: number): Promise<boolean> {
    if (this.revoked.has(sessionId)) return false;
    return this.store.extend(sessionId, ttlMs);
  }

  async revoke(sessionId: string): Promise<void> {
    this.forget(sessionId);
    await this.store.revoke(sessionId);
  }

  /** Evicts a session revoked elsewhere (the `sessionRevoked` event); it is never live again. */
  forget(sessionId: string): void {
    this.live.delete(sessionId);
    this.revoked.set(sessionId, true);
  }
}
