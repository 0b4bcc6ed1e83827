import type Redis from 'ioredis';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimitsConfig, Rate } from '../../config/config';
import { rateLimited } from '../../shared/errors';
import { SET_UP_LINGER_MS } from '../../shared/loader';
import { TurnBatchedRateLimiterRedis } from './turn-batched-limiter';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';

/** The rate limits, by the name clients see in `extensions.limit`. */
export type RateLimitName = 'send' | 'loginIp' | 'registerIp' | 'typing' | 'readReceipts' | 'presence';

/** Counts that a consumer adds to and takes back: open sockets per user and per address. */
export type CapName = 'wsConnectionsPerUser' | 'wsConnectionsPerIp';

/** A cap's counter lives this long after its last change (s): counts of a crashed instance fade out. */
const CAP_TTL_SECONDS = 24 * 3600;

/** Whether a limiter's rejection is a refusal (its state), not a store failure (an Error). */
const isRefusal = (err: unknown): err is RateLimiterRes => err instanceof RateLimiterRes;

/**
 * Rate limits with rate-limiter-flexible: in Redis when the server has one (every instance shares
 * the counts; each limiter falls back to an in-memory one while Redis fails, its `insuranceLimiter`),
 * else in memory; the points of one event-loop turn go to Redis in one call
 * ({@link TurnBatchedRateLimiterRedis}). Fixed windows of `seconds`; sends add a burst allowance (BurstyRateLimiter).
 * Logins lock a username after consecutive failures for a doubling time (OWASP's
 * Authentication Cheat Sheet, "Account lockout"); a success clears it.
 */
export class RateLimits {
  private readonly limiters: Record<RateLimitName, RateLimiterAbstract | BurstyRateLimiter>;
  private readonly caps: Record<CapName, { limiter: RateLimiterAbstract; max: number }>;
  /** Consecutive login failures per username (a long window). */
  private readonly loginFailures: RateLimiterAbstract;
  /** Locked usernames (blocked keys). */
  private readonly loginLocks: RateLimiterAbstract;

  constructor(
    private readonly limits: LimitsConfig,
    redis: Redis | null,
    prefix: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    const make = (name: string, points: number, seconds: number, lingerMs = 0): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: seconds });
      if (!redis) return memory;
      return new TurnBatchedRateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}rl:${name}`,
        points,
        duration: seconds,
        // Without Redis the in-memory twin answers at once (per instance), rather than commands queueing.
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
        lingerMs,
      });
    };
    const rate = (name: string, r: Rate) => make(name, r.points, r.seconds);
    const send = rate('send', limits.send);
    this.limiters = {
      send: limits.sendBurst > 0 ? new BurstyRateLimiter(send, make('send-burst', limits.sendBurst, 10)) : send,
      loginIp: rate('login-ip', limits.loginPerIp),
      registerIp: rate('register-ip', limits.registerPerIp),
      typing: rate('typing', limits.typing),
      readReceipts: rate('read-receipts', limits.readReceipts),
      presence: rate('presence', limits.presence),
    };
    this.caps = {
      wsConnectionsPerUser: {
        // A socket's admission is a step of its set-up: batched as the others are.
        limiter: make('ws-user', limits.wsConnectionsPerUser, CAP_TTL_SECONDS, SET_UP_LINGER_MS),
        max: limits.wsConnectionsPerUser,
      },
      wsConnectionsPerIp: {
        limiter: make('ws-ip', limits.wsConnectionsPerIp, CAP_TTL_SECONDS, SET_UP_LINGER_MS),
        max: limits.wsConnectionsPerIp,
      },
    };
    this.loginFailures = make('login-failures', 1_000_000, limits.loginLockoutMaxSeconds);
    this.loginLocks = make('login-lock', 1, limits.loginLockoutMaxSeconds);
  }

  /**
   * Takes one point of `name` for `key` (a user id or a client address).
   * @throws DomainError RATE_LIMITED (`extensions.limit`, `retryAfterMs`) when none is left.
   */
  async consume(name: RateLimitName, key: string): Promise<void> {
    try {
      await this.limiters[name].consume(key);
    } catch (err) {
      this.refuse(name, 'rate', err);
    }
  }

  /**
   * Adds one to a cap's count for `key`.
   * @returns `true` when counted: take it back with {@link leave} once the counted thing ends;
   *   `false` when the store failed and admitted without counting (nothing to take back).
   * @throws DomainError RATE_LIMITED when the count is at the cap (nothing added).
   */
  async enter(name: CapName, key: string): Promise<boolean> {
    const { limiter } = this.caps[name];
    try {
      await limiter.consume(key);
      return true;
    } catch (err) {
      // A refused consume still counted a point.
      if (isRefusal(err)) await limiter.reward(key).catch(() => undefined);
      this.refuse(name, 'cap', err, `Too many open connections (${this.caps[name].max})`);
      return false;
    }
  }

  /** Takes back one {@link enter} of `name` for `key` that returned `true` (call once). */
  leave(name: CapName, key: string): void {
    this.caps[name].limiter
      .reward(key)
      .catch((err: unknown) => this.log.warn({ err, limit: name }, 'releasing a cap failed'));
  }

  /**
   * Refuses a login of a locked username before its password is checked.
   * @throws DomainError RATE_LIMITED (`limit: loginLockout`) while `username` is locked.
   */
  async checkLogin(username: string): Promise<void> {
    const key = username.toLowerCase();
    let locked: RateLimiterRes | null;
    try {
      locked = await this.loginLocks.get(key);
    } catch (err) {
      this.log.warn({ err }, 'reading a login lock failed');
      return;
    }
    if (locked && locked.consumedPoints > 0 && locked.msBeforeNext > 0) this.refuse('loginLockout', 'lockout', locked);
  }

  /** Counts a failed login of `username` (known or not); past the threshold locks it for a doubling time. */
  async loginFailed(username: string): Promise<void> {
    const key = username.toLowerCase();
    try {
      const { consumedPoints } = await this.loginFailures.penalty(key, 1);
      const over = consumedPoints - this.limits.loginLockoutFailures;
      if (over >= 0) {
        const seconds = Math.min(
          this.limits.loginLockoutSeconds * 2 ** Math.min(over, 30),
          this.limits.loginLockoutMaxSeconds,
        );
        await this.loginLocks.block(key, seconds);
      }
    } catch (err) {
      this.log.warn({ err }, 'counting a failed login failed');
    }
  }

  /** Clears `username`'s failures and lock after a successful login. */
  async loginSucceeded(username: string): Promise<void> {
    const key = username.toLowerCase();
    await Promise.all([this.loginFailures.delete(key), this.loginLocks.delete(key)]).catch((err: unknown) =>
      this.log.warn({ err }, 'clearing failed logins failed'),
    );
  }

  /** Counts a refusal made elsewhere (GraphQL limits, caps of a transport). */
  refused(limit: string, reason: string): void {
    this.metrics.refusals.inc({ limit, reason });
  }

  /**
   * Answers a limiter's rejection: a refusal becomes RATE_LIMITED; a store failure with no
   * insurance left is logged and lets the operation through (a limit must not become a 500).
   */
  private refuse(limit: string, reason: string, err: unknown, message?: string): void {
    if (!isRefusal(err)) {
      this.log.warn({ err, limit }, 'a rate limiter failed; letting the operation through');
      return;
    }
    this.refused(limit, reason);
    throw rateLimited(limit, err.msBeforeNext, message);
  }
}
