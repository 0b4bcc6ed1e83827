import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/sql';
import { setUpLoader } from '../../shared/loader';
import type { Logger } from '../../shared/logger';
import { deleteExpiredSessions, deleteSession, extendSession, insertSession, selectLiveSession } from './auth.sql';

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

/**
 * Live sessions in Redis as `<prefix>session:<id>` keys with a PX expiry: a copy of the
 * `sessions` table (the truth) that answers a healthy lookup without a database round trip.
 * Every command may fail (Redis unreachable, or slower than REDIS_COMMAND_TIMEOUT_MS).
 */
export interface RedisSessionCache {
  /** `true` when the session's key exists (a miss proves nothing: Redis may have restarted). */
  has(sessionId: string): Promise<boolean>;
  /** Stores the session's key for `ttlMs` ms. */
  remember(sessionId: string, userId: string, ttlMs: number): Promise<void>;
  /** Deletes the session's key. */
  forget(sessionId: string): Promise<void>;
}

/**
 * The {@link RedisSessionCache} on one connection, keys under `prefix` (REDIS_PREFIX). The lookups
 * made within SET_UP_LINGER_MS go out as one pipeline (one write): sockets authenticate one
 * by one, each from its own read, so auto-pipelining alone sent every EXISTS by itself.
 */
export function createRedisSessionCache(redis: Redis, prefix: string): RedisSessionCache {
  const key = (id: string) => `${prefix}session:${id}`;
  const exists = setUpLoader<string, boolean>(async (ids) => {
    if (ids.length === 1) return [(await redis.exists(key(ids[0]))) === 1];
    const replies = (await redis.pipeline(ids.map((id) => ['exists', key(id)])).exec()) ?? [];
    return ids.map((_, i) => {
      const [err, count] = replies[i] ?? [new Error('no reply to EXISTS'), 0];
      return err ?? count === 1;
    });
  });
  return {
    has: (sessionId) => exists.load(sessionId),
    async remember(sessionId, userId, ttlMs) {
      await redis.set(key(sessionId), userId, 'PX', Math.max(Math.round(ttlMs), 1));
    },
    async forget(sessionId) {
      await redis.del(key(sessionId));
    },
  };
}

/**
 * Sessions in PostgreSQL (`sessions` table), durable as messages are, so that tokens survive a
 * restart of the server or of Redis. With `redis`, a copy in Redis answers lookups first: a
 * session found there costs no database round trip; on a miss (Redis restarted or flushed) or an
 * error (Redis unreachable) the table answers and a live session is copied back to Redis. Expired
 * rows are deleted as new sessions are made.
 *
 * @param log - told when Redis fails (the lookup goes on against the table).
 */
export function createDatabaseSessionStore(db: Db, redis?: RedisSessionCache, log?: Logger): SessionStore {
  const warn = (err: unknown) => log?.warn({ err }, 'Redis session lookup failed: reading the sessions table');
  return {
    async create(sessionId, userId, ttlMs) {
      await deleteExpiredSessions(db.sql);
      await insertSession(db.sql, { id: sessionId, userId, ttlMs });
      // The table has it: a failure here only costs a database lookup later.
      await redis?.remember(sessionId, userId, ttlMs).catch(warn);
    },
    async isActive(sessionId) {
      if (redis && (await redis.has(sessionId).catch((err: unknown) => (warn(err), false)))) return true;
      const live = await selectLiveSession(db.sql, sessionId);
      if (live && redis) await redis.remember(sessionId, live.userId, live.ttlMs).catch(warn);
      return live !== null;
    },
    // The table only: a Redis copy ends at the old expiry, and the next lookup after it reads the
    // table and remembers the session again with its new lifetime.
    extend(sessionId, ttlMs) {
      return extendSession(db.sql, sessionId, ttlMs);
    },
    async revoke(sessionId) {
      await deleteSession(db.sql, sessionId);
      // Not caught: a key left in Redis would keep the session live there, so the logout fails
      // (SERVICE_UNAVAILABLE) and is retried; the table has already revoked it.
      await redis?.forget(sessionId);
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
