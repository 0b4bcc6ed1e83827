import type { Unsubscribe } from '../../pubsub/event-bus';
import { defineModule } from '../module';
import { AuthResolver } from './auth.resolver';
import { AuthService } from './auth.service';
import { sessionRevokedTopic, type SessionRevokedPayload } from './auth.topics';
import { loadOrCreateSecret } from './secret';
import { SessionSocketCheck } from './session-check';
import { createDatabaseSessionStore, createRedisSessionCache, SessionCache } from './session.store';

/** Shortest period of the re-validation of open sockets' sessions, ms (with SESSION_CACHE_MS 0). */
const MIN_SOCKET_CHECK_MS = 1_000;

/**
 * Auth: `register`, `login`, `logout` and the server's authenticator (JWTs naming revocable
 * sessions, kept in the `sessions` table with a copy in Redis in front when there is one). While
 * started it listens to `sessionRevokedTopic()`: a logout on any instance evicts the session from
 * this instance's cache and closes its sockets here with 4403. Should that event be lost, the
 * sessions of the open sockets are re-validated every SESSION_CACHE_MS (at least 1 s) in one query
 * ({@link SessionSocketCheck}).
 *
 * @throws from build when the JWT secret file in `config.dataDir` cannot be read or written.
 */
export const authModule = defineModule({
  name: 'auth',
  resolvers: [AuthResolver],
  async build(ctx) {
    const { config, db, redis, bus } = ctx;
    const secret = config.jwtSecret ?? (await loadOrCreateSecret(config.dataDir));
    const sessions = new SessionCache(
      createDatabaseSessionStore(db, redis ? createRedisSessionCache(redis, config.redisPrefix) : undefined, ctx.log),
      { ttlMs: config.sessionCacheMs },
    );
    const auth = new AuthService(db, sessions, bus, secret, config.tokenTtlSeconds, ctx.log);
    // An open socket is re-validated as often as HTTP asks the store again (SESSION_CACHE_MS).
    const socketCheck = new SessionSocketCheck(
      db,
      ctx.sockets,
      sessions,
      ctx.metrics,
      ctx.log,
      Math.max(config.sessionCacheMs, MIN_SOCKET_CHECK_MS),
    );
    let unsubscribe: Unsubscribe | null = null;
    return {
      authenticator: auth,
      provides: [auth, new AuthResolver(auth)],
      async start() {
        unsubscribe = await bus.subscribe<SessionRevokedPayload>(sessionRevokedTopic(), ({ sessionId }) => {
          sessions.forget(sessionId);
          const closed = ctx.sockets.closeSession(sessionId, 'Session revoked');
          if (closed) ctx.metrics.wsRejected.inc({ reason: 'revoked' }, closed);
        });
        socketCheck.start();
      },
      async stop() {
        socketCheck.stop();
        const stopListening = unsubscribe;
        unsubscribe = null;
        await stopListening?.();
      },
    };
  },
});
