import type { PubSubEngine } from 'graphql-subscriptions';
import { PubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type Redis from 'ioredis';
import type { Logger } from '../shared/logger';

/** Stops a subscription made with {@link EventBus.subscribe}. */
export type Unsubscribe = () => Promise<void>;

/**
 * Topic-based publish/subscribe between instances: Redis pub/sub in a deployment, in-process
 * on the embedded default. Events of one topic published by one instance reach each subscriber
 * in publish order; across instances there is no order (subscribers restore seq order).
 */
export interface EventBus {
  /**
   * Publishes a JSON-safe payload.
   * @throws when Redis is unreachable (the caller decides: after a commit, the event is lost for
   *   live subscribers but the data is in PostgreSQL and resumable by seq).
   */
  publish<T extends object>(topic: string, payload: T): Promise<void>;
  /**
   * Calls `onEvent` for each payload published on `topic` from now on. One Redis SUBSCRIBE per
   * topic per instance, however many local subscribers share it.
   */
  subscribe<T extends object>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe>;
  /**
   * Undoes one {@link subscribe} of `onEvent` to `topic`, as calling its {@link Unsubscribe} does,
   * for subscribers that would rather not keep that function (also while the subscribe is still
   * under way). Nothing happens when `onEvent` is not subscribed to `topic`.
   */
  unsubscribe(topic: string, onEvent: (payload: never) => void): Promise<void>;
  /** `true` when the transport can be used now (readiness). */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

type Listener = (payload: never) => void;

/** The local subscribers of one topic, behind one engine subscription. */
interface LocalTopic {
  /**
   * The listeners, once per subscribe (a listener may subscribe twice). Replaced, not changed,
   * when one leaves, so that a delivery under way is not disturbed.
   */
  listeners: Listener[];
  /** The engine's subscription id, once the engine hears the topic. */
  engineId: Promise<number>;
}

/**
 * One engine subscription per topic, fanned out here to the local listeners. The engines keep an
 * id, an array and a prefixed topic string per subscription, and look each subscriber up by id
 * for every event; with 10,000 idle sockets that was ~0.6 KB per socket (heap snapshots of the
 * connections benchmark). Here a subscription is one array slot in its topic.
 */
function fromEngine(engine: PubSubEngine, prefix: string, extra: Pick<EventBus, 'isReady' | 'close'>): EventBus {
  const local = new Map<string, LocalTopic>();

  const release = async (topic: string, entry: LocalTopic, listener: Listener): Promise<void> => {
    const at = entry.listeners.indexOf(listener);
    if (at < 0) return;
    entry.listeners = entry.listeners.filter((_, i) => i !== at);
    if (entry.listeners.length > 0) return;
    if (local.get(topic) === entry) local.delete(topic);
    await engine.unsubscribe(await entry.engineId);
  };

  return {
    async publish(topic, payload) {
      await engine.publish(prefix + topic, payload);
    },
    async subscribe<T extends object>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe> {
      let entry = local.get(topic);
      if (!entry) {
        const created: LocalTopic = { listeners: [], engineId: Promise.resolve(0) };
        created.engineId = engine.subscribe(
          prefix + topic,
          (payload: T) => {
            for (const listener of created.listeners) (listener as (p: T) => void)(payload);
          },
          {},
        );
        created.engineId.catch(() => {
          if (local.get(topic) === created) local.delete(topic);
        });
        local.set(topic, (entry = created));
      }
      const listener = onEvent as Listener;
      entry.listeners.push(listener);
      const subscribed = entry;
      try {
        await subscribed.engineId;
      } catch (err) {
        subscribed.listeners = subscribed.listeners.filter((l) => l !== listener);
        throw err;
      }
      return () => release(topic, subscribed, listener);
    },
    async unsubscribe(topic, onEvent) {
      const entry = local.get(topic);
      if (entry) await release(topic, entry, onEvent);
    },
    ...extra,
  };
}

/**
 * An {@link EventBus} over Redis pub/sub (graphql-redis-subscriptions), JSON-serialized.
 *
 * @param publisher - a command connection (it may be shared with other commands).
 * @param subscriber - a connection used only for SUBSCRIBE (Redis forbids other commands on it).
 * @param prefix - prepended to every topic (REDIS_PREFIX).
 */
export function createRedisEventBus(publisher: Redis, subscriber: Redis, prefix: string, log?: Logger): EventBus {
  const engine = new RedisPubSub({ publisher, subscriber: guardUnsubscribe(subscriber, log) });
  return fromEngine(engine, prefix, {
    async isReady() {
      return publisher.status === 'ready' && subscriber.status === 'ready';
    },
    // The connections belong to the caller, which quits them; RedisPubSub.close() would quit
    // them too, without handling a failure.
    close: async () => undefined,
  });
}

/**
 * RedisPubSub.unsubscribe fires UNSUBSCRIBE and PUNSUBSCRIBE without handling their promises
 * (davidyaha/graphql-redis-subscriptions#593), so a client leaving while Redis is unreachable
 * raises an unhandled rejection, which ends a Node process. This view of the subscriber
 * connection logs those failures instead (a closed connection has no subscriptions left, and a
 * reconnect subscribes only to the channels still wanted), and skips PUNSUBSCRIBE: Parley never
 * subscribes to patterns (#654).
 */
function guardUnsubscribe(subscriber: Redis, log?: Logger): Redis {
  return new Proxy(subscriber, {
    get(target, property, receiver) {
      if (property === 'punsubscribe') return async () => 0;
      if (property === 'unsubscribe') {
        return (...channels: string[]) =>
          target.unsubscribe(...channels).catch((err: unknown) => {
            log?.warn({ err, channels }, 'Redis UNSUBSCRIBE failed');
            return 0;
          });
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** An in-process {@link EventBus} for the embedded default: one instance, no Redis. */
export function createMemoryEventBus(): EventBus {
  return fromEngine(new PubSub(), '', {
    isReady: async () => true,
    close: async () => undefined,
  });
}
