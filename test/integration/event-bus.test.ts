import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createMemoryEventBus, createRedisEventBus, type EventBus } from '../../src/pubsub/event-bus';
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
