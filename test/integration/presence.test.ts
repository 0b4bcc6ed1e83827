import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import {
  PresenceChangedDocument,
  PresenceDocument,
  SetActiveConversationDocument,
  SetPresenceStatusDocument,
  UsersWithPresenceDocument,
  type PresenceChangedSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, connected, http, ok, Subscription, wsOk } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { startPrivateRedis } from '../support/redis';
import { TestCluster, useTwoInstances, type Env, type Instance } from '../support/server';
import { elapse, eventually } from '../support/wait';

/** Short presence timings so that expiry happens within a test: heartbeat 1 s, TTL 3 s, sweep 0.5 s. */
const FAST = { PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_TTL_MS: '3000', PRESENCE_SWEEP_MS: '500' };

const setup = useTwoInstances(FAST);
const { keep: track } = setup;
let cluster: TestCluster;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ cluster, a, b } = setup));

/** A child-process instance of the cluster, killed after the test. */
const child = async (overrides: Env) => track(await cluster.startChild(overrides));

/** Registers users; each pair `[x, y]` in `pairs` gets a direct conversation. */
async function people(count: number, pairs: Array<[number, number]>): Promise<TestUser[]> {
  const users = await Promise.all(Array.from({ length: count }, (_, i) => buildUser(a, { prefix: `p${i}` })));
  for (const [x, y] of pairs) await buildConversation(a, users[x], users[y]);
  return users;
}

const socket = async (server: Pick<Instance, 'wsUrl'>, user: TestUser) => track(await connected(server, user));
/** `viewer`'s presenceChanged subscription (on a socket of its own), live on `server`. */
const watch = async (server: Instance, viewer: TestUser, userIds?: string[]) =>
  track(
    await subscribeLive(server, viewer, 'presenceChanged', PresenceChangedDocument, {
      userIds,
    }),
  );
/** Sets `user`'s status: an event that must come after any published before it (a sentinel). */
const setStatus = (server: Instance, user: TestUser, status: 'ONLINE' | 'AWAY') =>
  ok(server, SetPresenceStatusDocument, { status }, user.token);
const presenceOf = async (server: ParleyServer, viewer: TestUser, userId: string) =>
  (await ok(server, PresenceDocument, { userIds: [userId] }, viewer.token)).presence[0];
const changes = (sub: Subscription<PresenceChangedSubscription>) =>
  sub.events.map((e) => ({
    userId: e.presenceChanged.userId,
    status: e.presenceChanged.status,
    active: e.presenceChanged.activeConversationId,
  }));

describe('presence', () => {
  it('counts connections on both instances and goes OFFLINE only when the last one closes', async () => {
    const [alice, bob] = await people(2, [[0, 1]]);
    expect(await presenceOf(a, bob, alice.id)).toMatchObject({
      status: 'OFFLINE',
      connectionCount: 0,
      lastSeenAt: null,
    });
    const bobWatches = await watch(b, bob, [alice.id]);

    const tabs = [await socket(a, alice), await socket(a, alice), await socket(b, alice)];
    const [online] = await bobWatches.waitFor(1);
    expect(online.presenceChanged).toMatchObject({ userId: alice.id, status: 'ONLINE', user: { id: alice.id } });
    for (const server of [a, b])
      expect(await presenceOf(server, bob, alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 3 });

    await tabs[0].dispose();
    await eventually(async () => (await presenceOf(b, bob, alice.id)).connectionCount === 2);
    await tabs[2].dispose();
    await eventually(async () => (await presenceOf(a, bob, alice.id)).connectionCount === 1);
    expect(await presenceOf(a, bob, alice.id)).toMatchObject({ status: 'ONLINE' });
    expect(bobWatches.events).toHaveLength(1); // more or fewer tabs is not a change

    const beforeLast = Date.now();
    await tabs[1].dispose();
    const [, offline] = await bobWatches.waitFor(2);
    expect(offline.presenceChanged).toMatchObject({ userId: alice.id, status: 'OFFLINE', connectionCount: 0 });
    const lastSeen = Date.parse(offline.presenceChanged.lastSeenAt!);
    expect(lastSeen).toBeGreaterThanOrEqual(beforeLast - 5);
    expect(lastSeen).toBeLessThanOrEqual(Date.now());
    expect(await presenceOf(b, bob, alice.id)).toMatchObject({
      status: 'OFFLINE',
      connectionCount: 0,
      lastSeenAt: offline.presenceChanged.lastSeenAt,
    });
  });

  it("turns an instance's users OFFLINE once, and keeps others ONLINE, when it stops gracefully", async () => {
    const [alice, bob, carol] = await people(3, [
      [0, 1],
      [2, 1],
    ]);
    const leaving = await cluster.start(FAST);
    const bobWatches = await watch(a, bob);
    for (let i = 0; i < 3; i++) await socket(leaving, alice);
    await socket(leaving, carol);
    await socket(b, carol);
    await bobWatches.waitFor(2);

    await leaving.stop();
    await bobWatches.waitFor(3);
    expect(changes(bobWatches).slice(2)).toEqual([{ userId: alice.id, status: 'OFFLINE', active: null }]);
    expect(await presenceOf(b, bob, alice.id)).toMatchObject({ status: 'OFFLINE', connectionCount: 0 });
    expect(await presenceOf(b, bob, carol.id)).toMatchObject({ status: 'ONLINE', connectionCount: 1 });
    // No further change for alice or carol: a change of carol's made now is the next event.
    await setStatus(b, carol, 'AWAY');
    await bobWatches.waitFor(4);
    expect(changes(bobWatches).slice(3)).toEqual([{ userId: carol.id, status: 'AWAY', active: null }]);
    expect(bobWatches.events).toHaveLength(4);
  });

  it('is AWAY when the user says so while connected, and ONLINE again on a new first connection', async () => {
    const [alice, bob] = await people(2, [[0, 1]]);
    const bobWatches = await watch(a, bob);
    const tab = await socket(a, alice);
    await bobWatches.waitFor(1);

    const away = await setStatus(b, alice, 'AWAY');
    expect(away.setPresenceStatus).toMatchObject({ status: 'AWAY', connectionCount: 1 });
    await setStatus(a, alice, 'AWAY'); // no change, no event
    await setStatus(b, alice, 'ONLINE');
    await setStatus(b, alice, 'AWAY');
    await bobWatches.waitFor(4);
    await tab.dispose();
    await bobWatches.waitFor(5);
    await socket(b, alice);
    await bobWatches.waitFor(6);
    // Nothing else came: a change made now is the seventh event.
    await setStatus(a, alice, 'AWAY');
    await bobWatches.waitFor(7);
    expect(changes(bobWatches).map((c) => c.status)).toEqual([
      'ONLINE',
      'AWAY',
      'ONLINE',
      'AWAY',
      'OFFLINE',
      'ONLINE',
      'AWAY',
    ]);

    const offline = await http(a, SetPresenceStatusDocument, { status: 'OFFLINE' }, alice.token);
    expect(codes(offline)).toEqual(['BAD_USER_INPUT']);
  });

  it('shows the active conversation to its participants until the connection that set it closes', async () => {
    // alice-bob and alice-carol conversations; bob and carol share nothing with each other.
    const [alice, bob, carol] = await people(3, [
      [0, 1],
      [0, 2],
    ]);
    const withBob = (await buildConversation(a, alice, bob)).id;
    const bobWatches = await watch(b, bob, [alice.id]);
    const carolWatches = await watch(a, carol);
    const phone = await socket(a, alice);
    const laptop = await socket(b, alice);
    await Promise.all([bobWatches.waitFor(1), carolWatches.waitFor(1)]);

    const set = await wsOk(phone, SetActiveConversationDocument, { conversationId: withBob });
    expect(set.setActiveConversation).toMatchObject({
      status: 'ONLINE',
      connectionCount: 2,
      activeConversationId: withBob,
    });
    expect((await bobWatches.waitFor(2))[1].presenceChanged.activeConversationId).toBe(withBob);
    // carol is not in that conversation: she learns that something changed, never which conversation.
    expect((await carolWatches.waitFor(2))[1].presenceChanged.activeConversationId).toBeNull();
    expect((await presenceOf(b, carol, alice.id)).activeConversationId).toBeNull();
    expect((await presenceOf(b, bob, alice.id)).activeConversationId).toBe(withBob);

    const notMine = (await buildConversation(a, bob, carol)).id;
    const denied = await http(a, SetActiveConversationDocument, { conversationId: notMine }, alice.token);
    expect(codes(denied)).toEqual(['FORBIDDEN']);

    await phone.dispose();
    const [, , cleared] = await bobWatches.waitFor(3);
    expect(cleared.presenceChanged).toMatchObject({ status: 'ONLINE', connectionCount: 1, activeConversationId: null });

    // Over HTTP it marks the connections opened with the same token: the laptop.
    const viaHttp = await ok(a, SetActiveConversationDocument, { conversationId: withBob }, alice.token);
    expect(viaHttp.setActiveConversation.activeConversationId).toBe(withBob);
    expect((await bobWatches.waitFor(4))[3].presenceChanged.activeConversationId).toBe(withBob);
    await laptop.dispose();
    expect((await bobWatches.waitFor(5))[4].presenceChanged).toMatchObject({
      status: 'OFFLINE',
      activeConversationId: null,
    });
  });

  it('delivers changes only to users who share a conversation, and FORBIDDEN for naming others', async () => {
    // mallory shares a conversation with dave only.
    const [alice, bob, mallory, dave] = await people(4, [
      [0, 1],
      [2, 3],
    ]);
    const denied = track(new Subscription(await socket(a, mallory), PresenceChangedDocument, { userIds: [alice.id] }));
    expect(await denied.failure()).toEqual(['FORBIDDEN']);
    const deniedToo = track(
      new Subscription(await socket(b, mallory), PresenceChangedDocument, { userIds: [bob.id, alice.id] }),
    );
    expect(await deniedToo.failure()).toEqual(['FORBIDDEN']);

    const malloryWatches = await watch(a, mallory);
    const bobWatches = await watch(b, bob);
    const tab = await socket(a, alice);
    await bobWatches.waitFor(1);
    // dave comes online after alice: had alice's change reached mallory, it would have come first.
    await socket(b, dave);
    await malloryWatches.waitFor(1);
    expect(changes(malloryWatches)).toEqual([{ userId: dave.id, status: 'ONLINE', active: null }]);

    // Once mallory and alice share a conversation, mallory's default stream follows alice, from
    // when it has heard of the conversation: until mallory hears of alice, alice changes status.
    await buildConversation(b, mallory, alice);
    const fromAlice = () => malloryWatches.events.some((e) => e.presenceChanged.userId === alice.id);
    let status: 'AWAY' | 'ONLINE' = 'ONLINE';
    await eventually(
      async () =>
        fromAlice() || (await setStatus(a, alice, (status = status === 'ONLINE' ? 'AWAY' : 'ONLINE')), fromAlice()),
    );
    await tab.dispose();
    const offline = await malloryWatches.waitForMatch((e) => e.presenceChanged.status === 'OFFLINE');
    expect(offline.presenceChanged).toMatchObject({ userId: alice.id, status: 'OFFLINE' });
    expect(
      changes(malloryWatches)
        .slice(1)
        .every((c) => c.userId === alice.id),
    ).toBe(true);
  });

  it('answers presence(userIds) in order, and NOT_FOUND / BAD_USER_INPUT for bad ids', async () => {
    const [alice, bob] = await people(2, [[0, 1]]);
    await socket(b, bob);
    const { presence } = await ok(a, PresenceDocument, { userIds: [bob.id, alice.id, bob.id] }, alice.token);
    expect(presence.map((p) => [p.user.id, p.status])).toEqual([
      [bob.id, 'ONLINE'],
      [alice.id, 'OFFLINE'],
      [bob.id, 'ONLINE'],
    ]);
    expect(
      codes(await http(a, PresenceDocument, { userIds: ['6c1a3a4e-1111-4c1a-9a1a-000000000000'] }, alice.token)),
    ).toEqual(['NOT_FOUND']);
    expect(codes(await http(a, PresenceDocument, { userIds: ['nope'] }, alice.token))).toEqual(['BAD_USER_INPUT']);
  });

  it('turns the users of a SIGKILLed instance OFFLINE within the TTL, keeping their other connections', async () => {
    const [alice, bob, carol] = await people(3, [
      [0, 1],
      [1, 2],
    ]);
    const doomed = await child(FAST);
    const bobWatches = await watch(a, bob, [alice.id, carol.id]);
    await socket(doomed, carol);
    await socket(doomed, alice);
    await socket(b, alice);
    await bobWatches.waitFor(2);
    expect(await presenceOf(a, bob, alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 2 });

    const killedAt = Date.now();
    await doomed.kill();
    const [, , offline] = await bobWatches.waitFor(3, 15_000);
    const detectedIn = Date.now() - killedAt;
    expect(offline.presenceChanged).toMatchObject({ userId: carol.id, status: 'OFFLINE', connectionCount: 0 });
    // TTL 3 s + one sweep period 0.5 s, plus scheduling slack.
    expect(detectedIn).toBeLessThan(3000 + 500 + 1500);
    // lastSeenAt is the last heartbeat of the dead instance: at most one heartbeat before the kill.
    const lastSeen = Date.parse(offline.presenceChanged.lastSeenAt!);
    expect(lastSeen).toBeGreaterThan(killedAt - 1000 - 200);
    expect(lastSeen).toBeLessThanOrEqual(killedAt);
    // alice still has her socket on instance B: fewer connections, still ONLINE, no event (a
    // change of hers made now is the next one).
    expect(await presenceOf(b, bob, alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 1 });
    await setStatus(b, alice, 'AWAY');
    await bobWatches.waitFor(4);
    expect(changes(bobWatches)).toEqual([
      { userId: carol.id, status: 'ONLINE', active: null },
      { userId: alice.id, status: 'ONLINE', active: null },
      { userId: carol.id, status: 'OFFLINE', active: null },
      { userId: alice.id, status: 'AWAY', active: null },
    ]);
  }, 90_000);

  it('clears what an instance left behind when it starts again, long before the TTL', async () => {
    const [dave, bob] = await people(2, [[0, 1]]);
    const slow = {
      PRESENCE_HEARTBEAT_MS: '10000',
      PRESENCE_TTL_MS: '60000',
      INSTANCE_ID: `presence-test-${randomBytes(4).toString('hex')}`,
    };
    const doomed = await child(slow);
    const bobWatches = await watch(b, bob, [dave.id]);
    await socket(doomed, dave);
    await bobWatches.waitFor(1);
    await doomed.kill();
    // The passing of time is the subject: nothing announces that an entry was not swept.
    await elapse(1500);
    // Without a heartbeat for 1.5 s but a 60 s TTL, dave still looks online...
    expect(await presenceOf(a, bob, dave.id)).toMatchObject({ status: 'ONLINE', connectionCount: 1 });

    const restartedAt = Date.now();
    await cluster.start({ ...FAST, INSTANCE_ID: slow.INSTANCE_ID });
    // ...until the instance with the same INSTANCE_ID starts and clears its old entries.
    const [, offline] = await bobWatches.waitFor(2);
    expect(offline.presenceChanged).toMatchObject({ userId: dave.id, status: 'OFFLINE' });
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
  }, 90_000);
});

describe('User.presence', () => {
  it('reads a page of 50 users with one Redis round trip', async () => {
    // A Redis of its own: MONITOR sees this instance's commands only, not other tests' traffic.
    const redis = await startPrivateRedis();
    const own = await TestCluster.create();
    const monitor = new Redis(redis.url);
    const probe = new Redis(redis.url);
    try {
      const server = await own.start({
        REDIS_URL: redis.url,
        PRESENCE_HEARTBEAT_MS: '30000',
        PRESENCE_TTL_MS: '60000',
        PRESENCE_SWEEP_MS: '30000',
      });
      const tag = `pg${randomBytes(3).toString('hex')}`;
      const users = await Promise.all(Array.from({ length: 50 }, () => buildUser(server, { prefix: tag })));
      await Promise.all(users.slice(0, 5).map((u) => connected(server, u).then(track)));

      const presenceCommands: string[] = [];
      const feed = await monitor.monitor();
      // MONITOR shows commands in the order Redis ran them: once a marker sent now is seen, every
      // command Redis ran before it has been seen too.
      const seen = new Set<string>();
      const marked = async () => {
        const marker = `parley-test-marker-${randomBytes(4).toString('hex')}`;
        await probe.echo(marker);
        await eventually(() => seen.has(marker));
      };
      // Commands sent by clients (not those a Lua script runs inside Redis) that touch presence keys.
      feed.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[0]?.toLowerCase() === 'echo') seen.add(args[1]);
        if (source !== 'lua' && args.some((arg) => arg.startsWith(`${own.redisPrefix}presence:`)))
          presenceCommands.push(args[0]);
      });
      await marked();
      const before = (await server.metrics.dbQueries.get()).values[0].value;
      const { users: page } = await ok(server, UsersWithPresenceDocument, { first: 50, search: tag }, users[0].token);
      const queries = (await server.metrics.dbQueries.get()).values[0].value - before;
      await marked();
      feed.disconnect();

      expect(page.edges).toHaveLength(50);
      expect(page.edges.filter((e) => e.node.presence.status === 'ONLINE')).toHaveLength(5);
      expect(presenceCommands).toHaveLength(1);
      expect(queries).toBeLessThanOrEqual(3); // the page, and lastSeenAt of the page
    } finally {
      monitor.disconnect();
      probe.disconnect();
      await setup.disposeAll();
      await own.stop();
      redis.kill();
    }
  }, 60_000);
});
