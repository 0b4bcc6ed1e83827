import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import { createMemoryEventBus, createRedisEventBus, type EventBus } from '../../src/pubsub/event-bus';
import { createRedis } from '../../src/redis/redis-client';
import { TEST_REDIS_URL } from '../support/env';
import { eventually } from '../support/wait';

/**
 * Waits until `got` holds `count` events. Events of one publisher reach a bus in the order they
 * were published, also across topics (one Redis connection each way): once an event has arrived,
 * any event published before it has too, or never will.
 */
const received = (got: unknown[], count: number) => eventually(() => got.length >= count);

describe.each([
  ['Redis', true],
  ['in-process', false],
])('event bus (%s): local fan-out over one subscription per topic', (_name, redis) => {
  let connections: Redis[] = [];
  let bus: EventBus;
  let publisher: EventBus;

  beforeEach(() => {
    if (!redis) {
      bus = publisher = createMemoryEventBus();
      return;
    }
    connections = [
      new Redis(TEST_REDIS_URL),
      new Redis(TEST_REDIS_URL),
      new Redis(TEST_REDIS_URL),
      new Redis(TEST_REDIS_URL),
    ];
    const prefix = `parley-test:${randomBytes(4).toString('hex')}:`;
    bus = createRedisEventBus(connections[0], connections[1], prefix);
    // Another instance's bus publishes: events cross Redis.
    publisher = createRedisEventBus(connections[2], connections[3], prefix);
  });

  afterEach(async () => {
    await bus.close();
    await Promise.all(connections.map((c) => c.quit()));
    connections = [];
  });

  it('delivers to every local listener, and to those still there after one leaves', async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const unsubscribeA = await bus.subscribe('t', (p) => a.push(p));
    await bus.subscribe('t', (p) => b.push(p));
    await publisher.publish('t', { n: 1 });
    await received(a, 1);
    await received(b, 1);
    await unsubscribeA();
    await publisher.publish('t', { n: 2 });
    // One event reaches every local listener of the topic at once: b's is a's sentinel.
    await received(b, 2);
    expect(a).toEqual([{ n: 1 }]);
    expect(b).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('one function may listen to several topics and leave each by name', async () => {
    const got: unknown[] = [];
    const listener = (p: object) => got.push(p);
    await bus.subscribe('x', listener);
    await bus.subscribe('y', listener);
    await publisher.publish('x', { from: 'x' });
    await publisher.publish('y', { from: 'y' });
    await received(got, 2);
    await bus.unsubscribe('x', listener);
    await publisher.publish('x', { from: 'x again' });
    await publisher.publish('y', { from: 'y again' });
    // 'y again' is published after 'x again': once it is here, 'x again' is here or never comes.
    await eventually(() => got.some((p) => (p as { from: string }).from === 'y again'));
    expect(got).toEqual([{ from: 'x' }, { from: 'y' }, { from: 'y again' }]);
  });

  it('a subscriber arriving while the last one leaves still hears the topic', async () => {
    const got: unknown[] = [];
    const leaving = await bus.subscribe('z', () => undefined);
    const left = leaving();
    const joined = bus.subscribe('z', (p) => got.push(p));
    await Promise.all([left, joined]);
    await publisher.publish('z', { n: 1 });
    await publisher.publish('z', { n: 2 });
    await received(got, 2);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('a topic left and joined again before its subscribe settled is heard once', async () => {
    const got: unknown[] = [];
    const listener = (p: object) => got.push(p);
    const first = bus.subscribe('w', listener);
    const left = bus.unsubscribe('w', listener);
    await Promise.all([first, left]);
    await bus.subscribe('w', listener);
    await publisher.publish('w', { n: 1 });
    // A sentinel after it: a second delivery of n: 1 would come before n: 2.
    await publisher.publish('w', { n: 2 });
    await received(got, 2);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe('event bus (Redis): the publish-time envelope', () => {
  const prefix = `parley-test:${randomBytes(4).toString('hex')}:`;
  let connections: Redis[] = [];
  let lags: number[];
  let bus: EventBus;

  beforeEach(() => {
    connections = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    lags = [];
    bus = createRedisEventBus(connections[0], connections[1], prefix, undefined, { observe: (s) => lags.push(s) });
  });
  afterEach(async () => {
    await bus.close();
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('observes the lag of each event received and hands listeners the bare payload', async () => {
    const got: unknown[] = [];
    await bus.subscribe('e', (p) => got.push(p));
    const sent = Date.now();
    await bus.publish('e', { n: 1 });
    await received(got, 1);
    expect(got).toEqual([{ n: 1 }]);
    expect(lags).toHaveLength(1);
    expect(lags[0]).toBeGreaterThanOrEqual(0);
    expect(lags[0]).toBeLessThanOrEqual((Date.now() - sent) / 1000);
    // What crossed Redis: the payload under `p`, its publish time under `t`.
    const seen: string[] = [];
    await connections[2].subscribe(`${prefix}e`);
    connections[2].on('message', (_channel: string, message: string) => seen.push(message));
    await bus.publish('e', { n: 2 });
    await eventually(() => seen.length === 1);
    const envelope = JSON.parse(seen[0]) as { t: unknown; p: unknown };
    expect(typeof envelope.t).toBe('number');
    expect(envelope.p).toEqual({ n: 2 });
  });

  it('delivers a payload published without the envelope as it is, with no lag observed', async () => {
    const got: unknown[] = [];
    await bus.subscribe('bare', (p) => got.push(p));
    await connections[2].publish(`${prefix}bare`, JSON.stringify({ n: 1, t: 'text' }));
    await received(got, 1);
    expect(got).toEqual([{ n: 1, t: 'text' }]);
    expect(lags).toEqual([]);
  });

  it('counts the topics it listens on, once each however many listeners', async () => {
    const leaveA1 = await bus.subscribe('a', () => undefined);
    const leaveA2 = await bus.subscribe('a', () => undefined);
    const leaveB = await bus.subscribe('b', () => undefined);
    expect(bus.topicCount()).toBe(2);
    await leaveA1();
    expect(bus.topicCount()).toBe(2);
    await Promise.all([leaveA2(), leaveB()]);
    expect(bus.topicCount()).toBe(0);
  });

  it('feeds a local topic only from this instance, with no Redis channel for it', async () => {
    const got: unknown[] = [];
    const leave = await bus.subscribe('mine', (p) => got.push(p), { local: true });
    await bus.subscribe('shared', () => undefined);
    const channels = await connections[2].pubsub('CHANNELS', `${prefix}*`);
    expect(channels).toEqual([`${prefix}shared`]);
    bus.deliverLocally('mine', { n: 1 });
    expect(got).toEqual([{ n: 1 }]);
    await leave();
    bus.deliverLocally('mine', { n: 2 });
    expect(got).toEqual([{ n: 1 }]);
  });
});

describe('event bus (Redis): leaving topics', () => {
  const prefix = `parley-test:${randomBytes(4).toString('hex')}:`;
  let connections: Redis[] = [];
  let bus: EventBus;
  /** Subscribers of each channel, as Redis counts them. */
  const numsub = async (channels: string[]) => {
    const reply = (await connections[2].call('PUBSUB', 'NUMSUB', ...channels)) as Array<string | number>;
    return channels.map((_, i) => Number(reply[2 * i + 1]));
  };

  beforeEach(() => {
    connections = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    bus = createRedisEventBus(connections[0], connections[1], prefix);
  });
  afterEach(async () => {
    await bus.close();
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('ends the Redis subscriptions of topics all left at once', async () => {
    // An instance whose sockets all close at once: more topics than one UNSUBSCRIBE takes.
    const topics = Array.from({ length: 2500 }, (_, i) => `many-${i}`);
    const channels = topics.map((t) => prefix + t);
    const listener = () => undefined;
    await Promise.all(topics.map((t) => bus.subscribe(t, listener)));
    expect(new Set(await numsub(channels))).toEqual(new Set([1]));
    await Promise.all(topics.map((t) => bus.unsubscribe(t, listener)));
    expect(bus.topicCount()).toBe(0);
    await eventually(async () => (await numsub(channels)).every((n) => n === 0), 10_000, 'UNSUBSCRIBEs');
  });

  it('keeps hearing a topic joined again in the turn its last listener left', async () => {
    const topics = ['again-1', 'again-2', 'again-3'];
    const channels = topics.map((t) => prefix + t);
    const listener = () => undefined;
    await Promise.all(topics.map((t) => bus.subscribe(t, listener)));
    await Promise.all(topics.map((t) => bus.unsubscribe(t, listener)));
    // Still the same event-loop turn: the UNSUBSCRIBEs are asked for and not sent yet.
    const got: unknown[] = [];
    await bus.subscribe('again-2', (p) => got.push(p));
    await eventually(async () => (await numsub(channels)).join() === '0,1,0', 10_000, 'UNSUBSCRIBEs');
    await connections[2].publish(prefix + 'again-2', JSON.stringify({ n: 1 }));
    await received(got, 1);
    expect(got).toEqual([{ n: 1 }]);
  });
});

/**
 * ioredis writes a SUBSCRIBE at once while a connection is in its handshake (status `connect`:
 * connected, ready check not yet answered), since SUBSCRIBE is allowed while Redis loads. Once its
 * reply is in, the connection is in subscriber mode, the ready check's INFO is refused ("Connection
 * in subscriber mode"), and ioredis drops the connection and connects again without that channel:
 * its resubscribe set is only kept from a connection that was ready. These subscribes are asked for
 * in the `connect` event, that window exactly, many in one turn.
 */
describe.each([
  ['ioredis defaults', () => new Redis(TEST_REDIS_URL)],
  ['the server connection', () => createRedis(TEST_REDIS_URL, 'parley-test:sub', pino({ level: 'silent' }))],
])('event bus (Redis): subscribes during the subscriber connection handshake (%s)', (_name, connect) => {
  const topics = Array.from({ length: 50 }, (_, i) => `h${i}`);
  let connections: Redis[] = [];
  let subscriber: Redis;
  let bus: EventBus;
  let publisher: EventBus;

  beforeEach(() => {
    const prefix = `parley-test:${randomBytes(4).toString('hex')}:`;
    subscriber = connect();
    // The refused ready check is emitted as an error; without a listener ioredis prints it.
    subscriber.on('error', () => undefined);
    connections = [new Redis(TEST_REDIS_URL), subscriber, new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    bus = createRedisEventBus(connections[0], subscriber, prefix);
    publisher = createRedisEventBus(connections[2], connections[3], prefix);
  });

  afterEach(async () => {
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    connections = [];
  });

  /**
   * Subscribes `got` to every topic in the next `connect` event of the subscriber connection.
   * @returns the connection's status in that event (`connect` when the subscribes went out in the
   *   handshake), for the test to assert.
   */
  const subscribeInHandshake = (got: Set<string>) =>
    new Promise<string>((resolve, reject) => {
      subscriber.once('connect', () => {
        const status = subscriber.status;
        Promise.all(topics.map((topic) => bus.subscribe(topic, () => got.add(topic)))).then(
          () => resolve(status),
          reject,
        );
      });
    });

  /** Publishes on every topic (and `also`), then waits until each was heard. */
  const hearsAll = async (got: Set<string>, also: string[] = []) => {
    for (const topic of [...topics, ...also]) await publisher.publish(topic, {});
    await eventually(() => got.size === topics.length + also.length, 10_000, 'every topic heard');
  };

  it('hears the topics subscribed while the connection is first set up', async () => {
    const got = new Set<string>();
    expect(await subscribeInHandshake(got)).toBe('connect');
    await hearsAll(got);
  });

  it('hears the topics subscribed while it reconnects, and those subscribed before', async () => {
    const got = new Set<string>();
    if (subscriber.status !== 'ready') await new Promise((resolve) => subscriber.once('ready', resolve));
    await bus.subscribe('before', () => got.add('before'));
    const subscribed = subscribeInHandshake(got);
    subscriber.disconnect(true);
    expect(await subscribed).toBe('connect');
    await hearsAll(got, ['before']);
  });
});
