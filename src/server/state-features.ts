import type Redis from 'ioredis';
import type { Config } from '../config/config';
import type { ConversationsService } from '../modules/conversations/conversations.service';
import { createMemoryPresenceStore } from '../modules/presence/presence.memory-store';
import { createRedisPresenceStore } from '../modules/presence/presence.redis-store';
import { PresenceResolver, UserPresenceResolver } from '../modules/presence/presence.resolver';
import { PresenceService } from '../modules/presence/presence.service';
import { PresenceStreams } from '../modules/presence/presence-stream';
import { ReadReceiptStreams } from '../modules/read-receipts/read-receipt-stream';
import { ConversationReadsResolver, ReadReceiptsResolver } from '../modules/read-receipts/read-receipts.resolver';
import { ReadReceiptsService } from '../modules/read-receipts/read-receipts.service';
import { TypingResolver } from '../modules/typing/typing.resolver';
import { TypingService } from '../modules/typing/typing.service';
import { createMemoryTypingStore, createRedisTypingStore } from '../modules/typing/typing.store';
import type { EventBus } from '../pubsub/event-bus';
import type { Logger } from '../shared/logger';
import type { DataSource } from 'typeorm';
import type { Metrics } from './metrics';

/** What the real-time state features need from the composition root. */
export interface StateDeps {
  config: Config;
  ds: DataSource;
  bus: EventBus;
  /** The command connection; `null` on the embedded default (in-process stores). */
  redis: Redis | null;
  conversations: ConversationsService;
  log: Logger;
  metrics: Metrics;
}

/**
 * Builds presence, typing and read receipts (issue "real-time state"): their stores (Redis, or
 * in-process on the embedded default), services, streams and resolvers.
 *
 * `start` clears this instance's entries left by a crash and starts the heartbeat and sweeps;
 * call it before accepting sockets. `stop` ends them and removes this instance's connections;
 * call it while pub/sub and the database are still open.
 */
export function createStateFeatures(deps: StateDeps) {
  const { config, ds, bus, redis, conversations, log, metrics } = deps;
  const live = (kind: string) => metrics.liveStateStreams.labels(kind);
  const presenceStore = redis
    ? createRedisPresenceStore(redis, config.redisPrefix, config.presenceTtlMs)
    : createMemoryPresenceStore(config.presenceTtlMs);
  const typingStore = redis ? createRedisTypingStore(redis, config.redisPrefix) : createMemoryTypingStore();

  const presence = new PresenceService(ds, bus, presenceStore, conversations, log, {
    instanceId: config.instanceId,
    heartbeatMs: config.presenceHeartbeatMs,
    sweepMs: config.presenceSweepMs,
  });
  const typing = new TypingService(bus, typingStore, conversations, log, live('typing'));
  const receipts = new ReadReceiptsService(ds, bus, conversations, log);
  const resolvers = [
    new PresenceResolver(presence, new PresenceStreams(bus, presence, live('presence'))),
    new UserPresenceResolver(),
    new TypingResolver(typing),
    new ReadReceiptsResolver(receipts, new ReadReceiptStreams(bus, conversations, live('readReceipt'))),
    new ConversationReadsResolver(),
  ];
  return {
    presence,
    receipts,
    resolvers,
    async start() {
      await presence.start();
      typing.start(config.presenceSweepMs);
    },
    async stop() {
      typing.stop();
      await presence.stop();
    },
  };
}
