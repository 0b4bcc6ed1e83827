import { randomUUID, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isUniqueViolation } from '../../db/errors';
import type { Db } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import type { Logger } from '../../shared/logger';
import type { Authenticated, Authenticator, AuthSession } from '../../shared/context';
import { badInput, conflict, unauthenticated } from '../../shared/errors';
import type { User } from '../users/user.entity';
import { insertUser, selectUserById, selectUserWithPassword } from './auth.sql';
import { sessionRevokedTopic, type SessionRevokedPayload } from './auth.topics';
import { hashPassword, verifyPassword } from './password';
import type { SessionStore } from './session.store';
import { hmacKey, signToken, verifyToken, type TokenClaims } from './tokens';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

/** What register and login return: the token, its expiry and the user. */
export interface AuthResult {
  token: string;
  expiresAt: Date;
  user: User;
}

/** Consecutive-failure lockout of usernames (the safety module's RateLimits). */
export interface LoginThrottle {
  /** @throws DomainError RATE_LIMITED while `username` is locked. */
  checkLogin(username: string): Promise<void>;
  loginFailed(username: string): Promise<void>;
  loginSucceeded(username: string): Promise<void>;
}

/**
 * Registration, login, logout and token verification (the server's {@link Authenticator}). Tokens
 * are JWTs (HS256) naming a session kept in the {@link SessionStore}; logout deletes the session
 * and announces it on the event bus so that every instance closes the sockets opened with it.
 */
export class AuthService implements Authenticator {
  private readonly key: KeyObject;
  /**
   * Tokens already verified, with their claims: a client presents the same token on every
   * request, and the same string always verifies the same way, so HS256 verification (base64url,
   * HMAC, JSON) runs once per token. `exp` is checked again on every use.
   */
  private readonly verified = new LRUCache<string, TokenClaims>({ max: 10_000 });

  /**
   * @param jwtSecret - the HMAC secret tokens are signed with (JWT_SECRET, or the one generated
   *   in the data directory).
   * @param tokenTtlSeconds - token (and session) lifetime, seconds.
   * @param log - told when a revocation cannot be published (its sockets close on re-validation).
   */
  constructor(
    private readonly db: Db,
    private readonly sessions: SessionStore,
    private readonly bus: EventBus,
    jwtSecret: string,
    private readonly tokenTtlSeconds: number,
    private readonly throttle: LoginThrottle,
    private readonly log?: Logger,
  ) {
    this.key = hmacKey(jwtSecret);
  }

  /**
   * Creates a user and a session.
   * @throws DomainError BAD_USER_INPUT (field username, password or displayName) for values out of
   *   range; CONFLICT when the username is taken (case-insensitively).
   */
  async register(input: { username: string; password: string; displayName?: string | null }): Promise<AuthResult> {
    if (!USERNAME.test(input.username)) {
      throw badInput('username must be 3-32 characters of letters, digits, _ . -', 'username');
    }
    if (input.password.length < 8 || input.password.length > 128) {
      throw badInput('password must be 8-128 characters', 'password');
    }
    const displayName = input.displayName ?? input.username;
    if (displayName.trim().length === 0 || displayName.length > 64) {
      throw badInput('displayName must be 1-64 characters and not blank', 'displayName');
    }
    const passwordHash = await hashPassword(input.password);
    let user: User;
    try {
      user = await insertUser(this.db.sql, { username: input.username, displayName, passwordHash });
    } catch (err) {
      if (isUniqueViolation(err, 'users_username_lower_key')) throw conflict('username is already taken');
      throw err;
    }
    return this.startSession(user);
  }

  /**
   * Checks the password and creates a session.
   * @throws DomainError UNAUTHENTICATED with one message for an unknown user and a wrong password;
   *   RATE_LIMITED while the username is locked after consecutive failures (known or not, alike).
   */
  async login(input: { username: string; password: string }): Promise<AuthResult> {
    await this.throttle.checkLogin(input.username);
    const row = await selectUserWithPassword(this.db.sql, input.username);
    const ok = await verifyPassword(row?.passwordHash ?? null, input.password);
    if (!row || !ok) {
      await this.throttle.loginFailed(input.username);
      throw unauthenticated('Invalid username or password');
    }
    await this.throttle.loginSucceeded(input.username);
    return this.startSession(row);
  }

  /**
   * A new token for the same session, with a fresh expiry (`TOKEN_TTL_SECONDS` from now); the
   * session is extended to match. The current token stays valid until its own expiry, and sockets
   * opened with it still close then: a client reconnects with the new token before that.
   * @throws DomainError UNAUTHENTICATED when the session was revoked meanwhile or the user is gone.
   */
  async refresh(userId: string, session: AuthSession): Promise<AuthResult> {
    const { token, expiresAt } = signToken({ userId, sessionId: session.id }, this.key, this.tokenTtlSeconds);
    if (!(await this.sessions.extend(session.id, expiresAt.getTime() - Date.now()))) {
      throw unauthenticated('Session revoked');
    }
    const user = await selectUserById(this.db.sql, userId);
    if (!user) throw unauthenticated('Session revoked');
    return { token, expiresAt, user };
  }

  /**
   * Revokes the session at once, on every instance; its sockets close with 4403 (at once through
   * the `sessionRevoked` event, or within SESSION_CACHE_MS when the event is lost: see
   * SessionSocketCheck).
   * @throws when the session's copy in Redis cannot be deleted (answered SERVICE_UNAVAILABLE); the
   *   session is already revoked in PostgreSQL then.
   */
  async logout(session: AuthSession): Promise<void> {
    await this.sessions.revoke(session.id);
    await this.bus
      .publish<SessionRevokedPayload>(sessionRevokedTopic(), { sessionId: session.id })
      .catch((err: unknown) =>
        this.log?.warn({ err }, 'publishing a revocation failed: sockets close on re-validation'),
      );
  }

  /**
   * Verifies a bearer token and that its session is still live.
   * @param options.remember - remember the verified token and the live session for the next
   *   requests (HTTP, where a client presents the same token again and again); a WebSocket
   *   authenticates once per connection and would only fill the caches.
   * @throws DomainError UNAUTHENTICATED for a bad, expired or revoked token.
   */
  async authenticate(token: string, options: { remember?: boolean } = {}): Promise<Authenticated> {
    const remember = options.remember ?? false;
    let claims = this.verified.get(token);
    if (!claims || claims.expiresAt.getTime() <= Date.now()) {
      claims = verifyToken(token, this.key);
      if (remember) this.verified.set(token, claims);
    }
    if (!(await this.sessions.isActive(claims.sessionId, { remember }))) throw unauthenticated('Session revoked');
    return { user: { id: claims.userId }, session: { id: claims.sessionId, expiresAt: claims.expiresAt } };
  }

  private async startSession(user: User): Promise<AuthResult> {
    const sessionId = randomUUID();
    const { token, expiresAt } = signToken({ userId: user.id, sessionId }, this.key, this.tokenTtlSeconds);
    await this.sessions.create(sessionId, user.id, expiresAt.getTime() - Date.now());
    delete (user as Partial<User>).passwordHash;
    return { token, expiresAt, user };
  }
}
