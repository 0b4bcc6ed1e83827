import type Redis from 'ioredis';
import type { Config } from '../config/config';
import { createMemoryEventBus, createRedisEventBus, type EventBus, type LagObserver } from '../pubsub/event-bus';
import { createRedis } from '../redis/redis-client';
import type { Logger } from '../shared/logger';

/** The event bus and, when REDIS_URL is set, the Redis command connection of one instance. */
export interface Messaging {
  bus: EventBus;
  /** Commands (sessions, presence, typing); `null` on the embedded default. */
  redis: Redis | null;
  /** Readiness: the failing parts (`pubsub`, `redis`), empty when ready. */
  failing(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Opens Redis (a command, a publisher and a subscriber connection) and the event bus over it, or
 * the in-process bus when `config.redisUrl` is unset.
 * @param lag - observes each event's publish-to-receive lag through Redis (`parley_pubsub_lag_seconds`).
 * @throws when Redis cannot be reached at start-up.
 */
export async function openMessaging(config: Config, log: Logger, lag?: LagObserver): Promise<Messaging> {
  if (!config.redisUrl) {
    const bus = createMemoryEventBus();
    return { bus, redis: null, failing: async () => [], close: () => bus.close() };
  }
  const commandTimeoutMs = config.redisCommandTimeoutMs;
  const commands = createRedis(config.redisUrl, 'parley:cmd', log, { autoPipelining: true, commandTimeoutMs });
  const connections = [
    commands,
    createRedis(config.redisUrl, 'parley:pub', log, { autoPipelining: true, commandTimeoutMs }),
    createRedis(config.redisUrl, 'parley:sub', log, { commandTimeoutMs }),
  ];
  const quit = () => Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  try {
    await Promise.all(
      connections.map((c) =>
        c.status === 'ready'
          ? null
          : new Promise((resolve, reject) => {
              c.once('ready', resolve);
              c.once('error', reject);
            }),
      ),
    );
  } catch (err) {
    await quit();
    throw err;
  }
  const bus = createRedisEventBus(connections[1], connections[2], config.redisPrefix, log, lag);
  return {
    bus,
    redis: commands,
    async failing() {
      const failing: string[] = [];
      if (!(await bus.isReady())) failing.push('pubsub');
      if ((await commands.ping().catch(() => null)) !== 'PONG') failing.push('redis');
      return failing;
    },
    async close() {
      await bus.close();
      await quit();
    },
  };
}
