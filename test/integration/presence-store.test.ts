import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createRedisPresenceStore } from '../../src/modules/presence/presence.redis-store';
import { TEST_REDIS_URL } from '../support/env';
import { eventually } from '../support/wait';

const prefix = `parley-test-presence-store-${randomUUID()}:`;
let redis: Redis;
beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('the Redis presence store', () => {
  it('hands a change whose announcement was lost to later sweeps until it is announced', async () => {
    const store = createRedisPresenceStore(redis, prefix, 30_000);
    const ref = { connectionId: randomUUID(), userId: randomUUID(), sessionId: randomUUID() };
    expect(await store.connect('x', [ref])).toMatchObject([{ userId: ref.userId, status: 'ONLINE', changed: true }]);
    // Clearing the instance turns the user OFFLINE; its caller never announces it (a lost reply).
    const [cleared] = await store.clearInstance('x');
    expect(cleared).toMatchObject({ userId: ref.userId, status: 'OFFLINE', changed: true });
    expect(cleared.lastSeenMs).toBeGreaterThan(0);

    // Within the grace period no sweep hands it over; past it, every sweep does, as a change of
    // the same version and last-seen time (not the sweep's), until it is announced.
    expect(await store.sweep(100, 60_000)).toEqual([]);
    for (let i = 0; i < 2; i++) {
      expect(await store.sweep(100, 0)).toEqual([
        expect.objectContaining({
          userId: ref.userId,
          status: 'OFFLINE',
          changed: true,
          version: cleared.version,
          lastSeenMs: cleared.lastSeenMs,
        }),
      ]);
    }
    await store.announced([ref.userId]);
    expect(await store.sweep(100, 0)).toEqual([]);
  });

  it('hands a heartbeat that brought an expired connection back to later sweeps until it is announced', async () => {
    const store = createRedisPresenceStore(redis, prefix, 30_000);
    const ref = { connectionId: randomUUID(), userId: randomUUID(), sessionId: randomUUID() };
    // An entry that outlived its TTL while its instance stalled: a sweep takes it (OFFLINE), announced.
    await createRedisPresenceStore(redis, prefix, 1).connect('x', [ref]);
    const { value: gone } = await eventually(
      async () => (await store.sweep(100, 60_000)).find((t) => t.userId === ref.userId),
      5_000,
      'the sweep of the expired entry',
    );
    expect(gone).toMatchObject({ status: 'OFFLINE', changed: true });
    await store.announced([ref.userId]);

    // The socket was alive all along: the next heartbeat adds it again, ONLINE. Its caller never
    // announces it (the reply timed out), so later sweeps hand it over until it is announced.
    const [back] = await store.heartbeat('x', [ref]);
    expect(back).toMatchObject({ userId: ref.userId, status: 'ONLINE', changed: true });
    expect(await store.sweep(100, 60_000)).toEqual([]);
    expect(await store.sweep(100, 0)).toEqual([
      expect.objectContaining({ userId: ref.userId, status: 'ONLINE', changed: true, version: back.version }),
    ]);
    await store.announced([ref.userId]);
    expect(await store.sweep(100, 0)).toEqual([]);
    expect(await store.heartbeat('x', [ref])).toEqual([]);
  });
});
