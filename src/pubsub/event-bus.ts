import type { PubSubEngine } from 'graphql-subscriptions';
import { PubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type Redis from 'ioredis';
import type { Logger } from '../shared/logger';
import { subscriberView } from './subscriber-connection';

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
   * topic per instance, however many local subscribers share it; none with `local`, for topics
   * that only {@link deliverLocally} feeds (a payload published on such a topic is not heard).
   */
  subscribe<T extends object>(
    topic: string,
    onEvent: (payload: T) => void,
    options?: { local?: boolean },
  ): Promise<Unsubscribe>;
  /**
   * Undoes one {@link subscribe} of `onEvent` to `topic`, as calling its {@link Unsubscribe} does,
   * for subscribers that would rather not keep that function (also while the subscribe is still
   * under way). Nothing happens when `onEvent` is not subscribed to `topic`.
   */
  unsubscribe(topic: string, onEvent: (payload: never) => void): Promise<void>;
  /** `true` when the transport can be used now (readiness). */
  isReady(): Promise<boolean>;
  /** The topics this instance has local subscribers for (a snapshot). */
  localTopics(): string[];
  /** How many topics this instance listens on (one Redis channel each): the size of {@link localTopics}, without the copy. */
  topicCount(): number;
  /**
   * Hands `payload` to this instance's subscribers of `topic`, as if it had been published, without
   * publishing it (a check that wakes local streams up, such as the messages tail check).
   */
  deliverLocally<T extends object>(topic: string, payload: T): void;
  /**
   * Calls `listener` each time the transport has reconnected and subscribes again to every topic
   * with local subscribers (events published meanwhile were lost). Never on the in-process bus.
   * @returns a function that stops the calls.
   */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

type Listener = (payload: never) => void;

/** The local subscribers of one topic, behind one transport subscription of its channel (the prefixed topic). */
interface LocalTopic {
  /**
   * The listeners, once per subscribe (a listener may subscribe twice): one function alone (a
   * user's own topic usually has one), else an array. The array is replaced, not changed, when
   * one leaves, so that a delivery under way is not disturbed.
   */
  listeners: Listener | Listener[] | null;
  /** Settles when the transport hears the channel; its value is what {@link Transport.unlisten} needs. */
  heard: Promise<unknown>;
}

/** What the bus needs from Redis or the in-process engine. */
interface Transport {
  publish(channel: string, payload: object): Promise<void>;
  /** Starts hearing `channel`, handing what arrives on it to `deliver`. @returns a handle for {@link unlisten}. */
  listen(channel: string, deliver: (message: unknown) => void): Promise<unknown>;
  unlisten(channel: string, handle: unknown): Promise<void>;
  /** The payload of what arrived on a channel, when the transport wraps payloads (Redis: {@link Envelope}). */
  open?(message: unknown): unknown;
}

/** Told how long each event took from its publish to its receipt from Redis, in seconds (a Histogram fits). */
export interface LagObserver {
  observe(seconds: number): void;
}

/**
 * What crosses Redis: the payload `p` and `t`, when it was published (ms since the epoch, by the
 * publishing instance's clock), for `parley_pubsub_lag_seconds`. Two short keys around the
 * payload's JSON: a few bytes and one small object per event, nothing per subscriber.
 */
interface Envelope {
  t: number;
  p: object;
}

const isEnvelope = (message: unknown): message is Envelope =>
  typeof (message as Envelope | null)?.t === 'number' && typeof (message as Envelope).p === 'object';

/** The `heard` of a topic subscribed with `local`: no transport subscription to wait for or undo. */
const LOCAL_ONLY: Promise<unknown> = Promise.resolve(null);

/**
 * The {@link EventBus} over a transport: one transport subscription per channel, fanned out here
 * to the local listeners: a subscription is one slot in its topic's entry, and the engine
 * (graphql-redis-subscriptions, which keeps several objects per subscription) holds one
 * subscription per topic.
 *
 * A channel whose last listener leaves is unsubscribed once its subscribe has settled, unless a
 * new listener has come meanwhile; a later subscriber then makes a new subscription, sent after
 * the unsubscribe, so the transport never ends up deaf to a channel that has listeners.
 */
function localFanOut(
  transport: Transport,
  prefix: string,
  extra: Pick<EventBus, 'isReady' | 'close' | 'onReconnect'>,
): EventBus {
  // By topic, not channel: the subscribers keep the topic strings anyway.
  const local = new Map<string, LocalTopic>();
  const deliver = (topic: string, payload: unknown) => {
    const listeners = local.get(topic)?.listeners as
      Array<(p: unknown) => void> | ((p: unknown) => void) | null | undefined;
    if (typeof listeners === 'function') listeners(payload);
    else if (listeners) for (const listener of listeners) listener(payload);
  };
  const open = transport.open?.bind(transport);
  const received = open ? (topic: string, message: unknown) => deliver(topic, open(message)) : deliver;
  const add = (entry: LocalTopic, listener: Listener) => {
    const { listeners } = entry;
    entry.listeners =
      listeners === null
        ? listener
        : typeof listeners === 'function'
          ? [listeners, listener]
          : (listeners.push(listener), listeners);
  };
  /** Takes one subscription of `listener` out; false when it had none. */
  const remove = (entry: LocalTopic, listener: Listener): boolean => {
    const { listeners } = entry;
    if (listeners === listener) entry.listeners = null;
    else if (!Array.isArray(listeners) || !listeners.includes(listener)) return false;
    else {
      const at = listeners.indexOf(listener);
      const rest = listeners.filter((_, i) => i !== at);
      entry.listeners = rest.length === 1 ? rest[0] : rest;
    }
    return true;
  };
  const release = async (topic: string, entry: LocalTopic, listener: Listener): Promise<void> => {
    if (!remove(entry, listener) || entry.listeners !== null) return;
    const handle = await entry.heard;
    if (entry.listeners !== null || local.get(topic) !== entry) return;
    local.delete(topic);
    if (entry.heard !== LOCAL_ONLY) await transport.unlisten(prefix + topic, handle);
  };

  return {
    async publish(topic, payload) {
      await transport.publish(prefix + topic, payload);
    },
    async subscribe<T extends object>(
      topic: string,
      onEvent: (payload: T) => void,
      options?: { local?: boolean },
    ): Promise<Unsubscribe> {
      let entry = local.get(topic);
      if (!entry) {
        // A bound function per topic, on the topic string the map holds anyway.
        const created: LocalTopic = {
          listeners: null,
          heard: options?.local ? LOCAL_ONLY : transport.listen(prefix + topic, received.bind(null, topic)),
        };
        created.heard.catch(() => {
          if (local.get(topic) === created) local.delete(topic);
        });
        local.set(topic, (entry = created));
      }
      const listener = onEvent as Listener;
      add(entry, listener);
      const subscribed = entry;
      try {
        await subscribed.heard;
      } catch (err) {
        remove(subscribed, listener);
        throw err;
      }
      return () => release(topic, subscribed, listener);
    },
    async unsubscribe(topic, onEvent) {
      const entry = local.get(topic);
      if (entry) await release(topic, entry, onEvent);
    },
    localTopics: () => Array.from(local.keys()),
    topicCount: () => local.size,
    deliverLocally: (topic, payload) => deliver(topic, payload),
    ...extra,
  };
}

/**
 * A {@link Transport} over a graphql-subscriptions engine: one engine subscription per channel
 * (the local fan-out above shares it among the instance's subscribers).
 */
function engineTransport(engine: PubSubEngine): Transport {
  return {
    publish: (channel, payload) => engine.publish(channel, payload),
    listen: (channel, deliver) => engine.subscribe(channel, deliver, {}),
    unlisten: async (_channel, id) => {
      engine.unsubscribe(id as number);
    },
  };
}

/**
 * An {@link EventBus} over Redis pub/sub (graphql-redis-subscriptions), JSON-serialized: one
 * SUBSCRIBE per topic per instance, however many local subscribers share it.
 *
 * Each payload travels in an {@link Envelope} with its publish time; on receipt `lag` is told how
 * long it took (wall clocks: a skew between hosts shows in it). A payload without one (published
 * by an instance that predates the envelope) is delivered as it is.
 *
 * No SUBSCRIBE is sent during the subscriber connection's handshake (see {@link subscriberView}).
 *
 * @param publisher - a command connection (it may be shared with other commands).
 * @param subscriber - a connection used only for SUBSCRIBE (Redis forbids other commands on it).
 * @param prefix - prepended to every topic (REDIS_PREFIX).
 * @param lag - observes the publish-to-receive lag of every event received (`parley_pubsub_lag_seconds`).
 */
export function createRedisEventBus(
  publisher: Redis,
  subscriber: Redis,
  prefix: string,
  log?: Logger,
  lag?: LagObserver,
): EventBus {
  const engine = new RedisPubSub({ publisher, subscriber: subscriberView(subscriber, log) });
  const transport: Transport = {
    ...engineTransport(engine),
    publish: (channel, payload) => engine.publish(channel, { t: Date.now(), p: payload } satisfies Envelope),
    open(message) {
      if (!isEnvelope(message)) return message;
      lag?.observe(Math.max(0, Date.now() - message.t) / 1000);
      return message.p;
    },
  };
  return localFanOut(transport, prefix, {
    async isReady() {
      return publisher.status === 'ready' && subscriber.status === 'ready';
    },
    onReconnect(listener) {
      // ioredis emits 'ready' on the next tick after sending the SUBSCRIBEs of autoResubscribe; a
      // PING queued behind them answers once Redis has run them, so the listener runs when every
      // channel is heard again (Redis answers commands of one connection in order).
      const onReady = () => {
        subscriber.ping().then(listener, (err: unknown) => log?.warn({ err }, 'Redis PING after a reconnect failed'));
      };
      subscriber.on('ready', onReady);
      return () => void subscriber.off('ready', onReady);
    },
    // The connections belong to the caller, which quits them; RedisPubSub.close() would quit
    // them too, without handling a failure.
    close: async () => undefined,
  });
}

/** An in-process {@link EventBus} for the embedded default: one instance, no Redis. */
export function createMemoryEventBus(): EventBus {
  const engine: PubSubEngine = new PubSub();
  return localFanOut(engineTransport(engine), '', {
    isReady: async () => true,
    onReconnect: () => () => undefined,
    close: async () => undefined,
  });
}
