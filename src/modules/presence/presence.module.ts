import { ConversationsService } from '../conversations/conversations.service';
import { defineModule } from '../module';
import { PresenceStreams } from './presence-stream';
import { createMemoryPresenceStore } from './presence.memory-store';
import { createRedisPresenceStore } from './presence.redis-store';
import { PresenceResolver, UserPresenceResolver } from './presence.resolver';
import { PresenceService } from './presence.service';

/**
 * Presence: ONLINE / AWAY / OFFLINE per user from their live WebSockets on every instance,
 * `setPresenceStatus`, `setActiveConversation`, `presence(userIds)`, `User.presence` and the
 * `presenceChanged` stream. Connection entries live in Redis (in-process on the embedded
 * default); `users.last_seen_at` in PostgreSQL (presence.sql.ts).
 *
 * `start` clears this instance's entries left by a crash and starts the heartbeat and sweep;
 * `stop` (before the sockets close) takes this instance's users OFFLINE in one batch, after which
 * the socket hooks do nothing.
 */
export const presenceModule = defineModule({
  name: 'presence',
  resolvers: [PresenceResolver, UserPresenceResolver],
  build({ config, db, bus, redis, log, streams, container }) {
    const store = redis
      ? createRedisPresenceStore(redis, config.redisPrefix, config.presenceTtlMs)
      : createMemoryPresenceStore(config.presenceTtlMs);
    const presence = new PresenceService(db, bus, store, container.get(ConversationsService), log, {
      instanceId: config.instanceId,
      heartbeatMs: config.presenceHeartbeatMs,
      sweepMs: config.presenceSweepMs,
    });
    const presenceStreams = new PresenceStreams({ bus, observer: streams }, presence);
    return {
      provides: [presence, new PresenceResolver(presence, presenceStreams), new UserPresenceResolver()],
      start: () => presence.start(),
      stop: () => presence.stop(),
      socketOpened: (viewer) =>
        presence.connect({ connectionId: viewer.connectionId, userId: viewer.user.id, sessionId: viewer.session.id }),
      socketClosed: (viewer) => void presence.disconnect(viewer.connectionId),
    };
  },
});
