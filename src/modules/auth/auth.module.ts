import type { Unsubscribe } from '../../pubsub/event-bus';
import { defineModule } from '../module';
import { RateLimits } from '../safety/rate-limits';
import { AuthResolver } from './auth.resolver';
import { AuthService } from './auth.service';
import { sessionRevokedTopic, type SessionRevokedPayload } from './auth.topics';
import { loadOrCreateSecret } from './secret';
import { createDatabaseSessionStore, createRedisSessionStore, SessionCache } from './session.store';

/**
 * Auth: `register`, `login`, `logout` and the server's authenticator (JWTs naming revocable
 * sessions, kept in Redis or, without it, in the `sessions` table). While started it listens to
 * `sessionRevokedTopic()`: a logout on any instance evicts the session from this instance's cache
 * and closes its sockets here with 4403.
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
      redis ? createRedisSessionStore(redis, config.redisPrefix) : createDatabaseSessionStore(db),
      {
        ttlMs: config.sessionCacheMs,
      },
    );
    const auth = new AuthService(db, sessions, bus, secret, config.tokenTtlSeconds, ctx.container.get(RateLimits));
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
      },
      async stop() {
        const stopListening = unsubscribe;
        unsubscribe = null;
        await stopListening?.();
      },
    };
  },
});
