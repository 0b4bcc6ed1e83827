import { createServer, connect, type Server, type Socket } from 'node:net';
import Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import { Client } from 'pg';
import {
  LogoutDocument,
  MeDocument,
  MessageAddedDocument,
  NotificationsDocument,
  PresenceChangedDocument,
  PresenceDocument,
  SetPresenceStatusDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
  type PresenceChangedSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, connected, http, ok, wsClient, type Closed } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { startPrivateRedis, type PrivateRedis } from '../support/redis';
import { useInstances, type Env } from '../support/server';
import { eventually } from '../support/wait';

const setup = useInstances(0);
const { keep } = setup;

/** A Redis of this test's own, killed after the test. */
async function privateRedis(): Promise<PrivateRedis> {
  const redis = await startPrivateRedis();
  keep({ dispose: () => redis.kill() });
  return redis;
}

/** An instance of the cluster, stopped after the test (before its Redis is killed). */
async function instance(env: Env, logger?: Logger): Promise<ParleyServer> {
  const server = await setup.cluster.start(env, { logger });
  keep({ dispose: () => server.stop() });
  return server;
}

/**
 * A TCP proxy between Parley and Redis that forwards everything except the pub/sub `message`
 * pushes that `drop` picks (RESP2 `*3 $7 message <channel> <payload>`): an event lost on its way
 * to one instance, while its connections stay up.
 */
interface DroppingProxy {
  url: string;
  /** Decides, per pub/sub message reaching the instance, whether it is dropped. */
  drop: (channel: string, payload: string) => boolean;
  /** The messages dropped so far, as `channel payload`. */
  dropped: string[];
  close(): Promise<void>;
}

/** The end (exclusive) of the RESP2 value starting at `at`, or -1 when `buf` does not hold all of it. */
function valueEnd(buf: Buffer, at: number): number {
  if (at >= buf.length) return -1;
  const lineEnd = buf.indexOf('\r\n', at);
  if (lineEnd < 0) return -1;
  const type = String.fromCharCode(buf[at]);
  if (type === '+' || type === '-' || type === ':') return lineEnd + 2;
  const n = Number(buf.toString('latin1', at + 1, lineEnd));
  if (type === '$') {
    if (n < 0) return lineEnd + 2;
    const end = lineEnd + 2 + n + 2;
    return end <= buf.length ? end : -1;
  }
  let p = lineEnd + 2;
  for (let i = 0; i < n; i++) {
    p = valueEnd(buf, p);
    if (p < 0) return -1;
  }
  return p;
}

/** The bulk strings of a RESP2 array of bulk strings. */
function bulkStrings(frame: Buffer): string[] {
  const out: string[] = [];
  let p = frame.indexOf('\r\n') + 2;
  while (p < frame.length) {
    const lineEnd = frame.indexOf('\r\n', p);
    const n = Number(frame.toString('latin1', p + 1, lineEnd));
    out.push(frame.toString('utf8', lineEnd + 2, lineEnd + 2 + n));
    p = lineEnd + 2 + n + 2;
  }
  return out;
}

const MESSAGE_PUSH = Buffer.from('*3\r\n$7\r\nmessage\r\n');

async function startDroppingProxy(redisPort: number): Promise<DroppingProxy> {
  const sockets = new Set<Socket>();
  const proxy: DroppingProxy = {
    url: '',
    drop: () => false,
    dropped: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    let pending: Buffer = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const forward: Buffer[] = [];
      let at = 0;
      for (let end = valueEnd(pending, at); end >= 0; end = valueEnd(pending, at)) {
        const frame = pending.subarray(at, end);
        at = end;
        if (frame.subarray(0, MESSAGE_PUSH.length).equals(MESSAGE_PUSH)) {
          const [, channel, payload] = bulkStrings(frame);
          if (proxy.drop(channel, payload)) {
            proxy.dropped.push(`${channel} ${payload}`);
            continue;
          }
        }
        forward.push(frame);
      }
      pending = Buffer.from(pending.subarray(at));
      if (forward.length) client.write(Buffer.concat(forward));
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
  keep({ dispose: () => proxy.close() });
  return proxy;
}

const get = (server: ParleyServer, path: string) => fetch(new URL(path, server.url));

/** Sends a message and returns its seq, failing the test unless it took under `withinMs`. */
async function timedSend(server: ParleyServer, user: TestUser, conversationId: string, body: string, withinMs = 1_000) {
  const started = Date.now();
  const { sendMessage } = await ok(server, SendMessageDocument, { input: { conversationId, body } }, user.token);
  expect(Date.now() - started).toBeLessThan(withinMs);
  return sendMessage.seq;
}

/** Notification jobs of messages of `conversationId` parked in PostgreSQL. */
async function parkedJobs(url: string, conversationId: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notification_jobs_parked
        WHERE data @> jsonb_build_object('messages', jsonb_build_array(jsonb_build_object('conversationId', $1::text)))`,
      [conversationId],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('a Redis outage', () => {
  it('keeps queries and sends working, never closes a socket 4403, and delivers everything once Redis is back', async () => {
    const redis = await privateRedis();
    const env = { REDIS_URL: redis.url, MESSAGE_TAIL_CHECK_MS: '0' };
    type Line = { level: number; msg: string; connection?: string };
    const logged: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Line) });
    const [a, b] = [await instance(env, logger), await instance(env)];
    const [alice, bob] = [await buildUser(a, { prefix: 'alice' }), await buildUser(b, { prefix: 'bob' })];
    const conversationId = (await buildConversation(a, alice, bob)).id;
    const vars = { conversationId, includeOwn: true };
    const onA = await subscribeLive(a, bob, 'messageAdded', MessageAddedDocument, vars);
    const onB = await subscribeLive(b, alice, 'messageAdded', MessageAddedDocument, vars);
    const seqs = [await timedSend(a, alice, conversationId, 'before')];
    await onA.waitFor(1);
    await onB.waitFor(1);

    redis.kill();
    await eventually(async () => (await get(a, '/readyz')).status === 503, 5_000, 'A not ready');
    const readiness = (await (await get(b, '/readyz')).json()) as { failing: string[] };
    expect(readiness.failing).toEqual(expect.arrayContaining(['redis']));
    expect((await get(b, '/healthz')).status).toBe(200);
    // 15 s without Redis: every request answers within a second.
    const closes: Array<Closed | 'acknowledged'> = [];
    const outageEnds = Date.now() + 15_000;
    for (let i = 0; Date.now() < outageEnds; i++) {
      const [server, user] = i % 2 ? [b, bob] : [a, alice];
      const started = Date.now();
      expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);
      expect(Date.now() - started).toBeLessThan(1_000);
      seqs.push(await timedSend(server, user, conversationId, `during ${i}`));
      if (i % 5 === 0) {
        const socket = wsClient(server, { authToken: user.token });
        closes.push(await Promise.race([socket.closed, socket.acknowledged.then(() => 'acknowledged' as const)]));
        await socket.dispose();
      }
    }
    expect(closes.length).toBeGreaterThan(0);
    for (const close of closes) if (close !== 'acknowledged') expect(close.code).toBe(1013);

    // Operators read one warning per connection for the whole outage, not one line per retry.
    const lines = (msg: string) => logged.filter((l) => l.msg === msg).map((l) => l.connection);
    const connections = ['parley:bull-queue', 'parley:bull-worker', 'parley:cmd', 'parley:pub', 'parley:sub'];
    expect(lines('Redis connection failed; reconnecting').sort()).toEqual(connections);
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);

    await redis.restart();
    await eventually(() => lines('Redis connection restored').length === connections.length, 15_000, 'restored');
    expect(lines('Redis connection restored').sort()).toEqual(connections);
    // No further traffic: the reconnects' tail checks deliver what the outage held back.
    const expected = [...seqs];
    const gotA = (await onA.waitFor(seqs.length, 15_000)).map((e) => e.messageAdded.seq);
    const gotB = (await onB.waitFor(seqs.length, 15_000)).map((e) => e.messageAdded.seq);
    expect(gotA).toEqual(expected);
    expect(gotB).toEqual(expected);
    expect(onA.errors).toEqual([]);
    expect(onB.errors).toEqual([]);
    // Nothing more (no duplicate) arrives; the sockets are still open and usable.
    const last = await timedSend(a, alice, conversationId, 'after');
    expect((await onB.waitFor(seqs.length + 1)).map((e) => e.messageAdded.seq)).toEqual([...expected, last]);
    expect((await onA.waitFor(seqs.length + 1)).map((e) => e.messageAdded.seq)).toEqual([...expected, last]);
    await onA.dispose();
    await onB.dispose();
  }, 60_000);

  it('notifies of a message sent during the outage once Redis is back, once', async () => {
    const redis = await privateRedis();
    const server = await instance({ REDIS_URL: redis.url, NOTIFY_PARKED_RETRY_MS: '200' });
    const [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
    const conversationId = (await buildConversation(server, alice, bob)).id;
    const notified = async () =>
      (await ok(server, NotificationsDocument, { first: 10 }, bob.token)).notifications.edges
        .map((e) => e.node)
        .filter((n) => n.kind === 'NEW_MESSAGE');

    redis.kill();
    await eventually(async () => (await get(server, '/readyz')).status === 503, 5_000, 'not ready');
    const seq = await timedSend(server, alice, conversationId, 'while Redis is down');
    // Deciding needs presence and the queue needs Redis: the batch waits in PostgreSQL as a job,
    // and nothing is notified yet.
    await eventually(
      async () => (await parkedJobs(setup.cluster.db.url, conversationId)) === 1,
      5_000,
      'the job parked',
    );
    expect(await notified()).toEqual([]);

    await redis.restart();
    const { value } = await eventually(async () => (await notified()).length > 0 && notified(), 15_000, 'notified');
    expect(value.map((n) => [n.message?.seq, n.message?.body])).toEqual([[seq, 'while Redis is down']]);
    await eventually(
      async () => (await parkedJobs(setup.cluster.db.url, conversationId)) === 0,
      5_000,
      'the parked job removed',
    );
    expect(await notified()).toHaveLength(1);
  }, 30_000);

  it('logs nobody out when Redis restarts empty', async () => {
    const redis = await privateRedis();
    const server = await instance({ REDIS_URL: redis.url, SESSION_CACHE_MS: '0' });
    const user = await buildUser(server);
    expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);

    redis.kill();
    await redis.restart();
    await eventually(async () => (await get(server, '/readyz')).status === 200, 15_000, 'ready again');
    expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);
    const socket = wsClient(server, { authToken: user.token });
    await socket.acknowledged;
    await socket.dispose();
  }, 30_000);
});

describe('a lost event', () => {
  it('closes the socket of a revoked session with 4403 within SESSION_CACHE_MS and a margin', async () => {
    const redis = await privateRedis();
    const proxy = await startDroppingProxy(redis.port);
    const env = { SESSION_CACHE_MS: '1000' };
    const a = await instance({ ...env, REDIS_URL: redis.url });
    const b = await instance({ ...env, REDIS_URL: proxy.url });
    proxy.drop = (channel) => channel.endsWith('sessions.revoked');
    const [alice, bob] = [await buildUser(a, { prefix: 'alice' }), await buildUser(a, { prefix: 'bob' })];
    const conversationId = (await buildConversation(a, alice, bob)).id;
    const socket = keep(await connected(b, bob));
    const sub = await subscribeLive(b, socket, 'messageAdded', MessageAddedDocument, { conversationId });

    const loggedOut = Date.now();
    expect((await ok(a, LogoutDocument, {}, bob.token)).logout).toBe(true);
    expect(await socket.closed).toEqual({ code: 4403, reason: 'Session revoked' });
    // SESSION_CACHE_MS, one query and a margin.
    expect(Date.now() - loggedOut).toBeLessThan(1_000 + 1_000);
    expect(proxy.dropped).toEqual([expect.stringContaining('sessions.revoked')]);
    await ok(a, SendMessageDocument, { input: { conversationId, body: 'after logout' } }, alice.token);
    expect(codes(await http(b, MeDocument, {}, bob.token))).toEqual(['UNAUTHENTICATED']);
    expect(sub.events).toEqual([]);
    await sub.dispose();
  }, 30_000);

  it('delivers a message whose event was lost, with no further traffic, within MESSAGE_TAIL_CHECK_MS', async () => {
    const redis = await privateRedis();
    const proxy = await startDroppingProxy(redis.port);
    const a = await instance({ REDIS_URL: redis.url });
    const b = await instance({ REDIS_URL: proxy.url, MESSAGE_TAIL_CHECK_MS: '1000' });
    const [alice, bob] = [await buildUser(a, { prefix: 'alice' }), await buildUser(a, { prefix: 'bob' })];
    const conversationId = (await buildConversation(a, alice, bob)).id;
    const sub = await subscribeLive<MessageAddedSubscription, Record<string, unknown>>(
      b,
      bob,
      'messageAdded',
      MessageAddedDocument,
      { conversationId },
    );
    proxy.drop = (channel) => channel.endsWith(`conversation.${conversationId}.messages`) && proxy.dropped.length === 0;

    const sent = Date.now();
    await ok(a, SendMessageDocument, { input: { conversationId, body: 'the last word' } }, alice.token);
    const [event] = await sub.waitFor(1, 5_000);
    expect(event.messageAdded).toMatchObject({ body: 'the last word', seq: 1 });
    // The check's period, one query and a margin.
    expect(Date.now() - sent).toBeLessThan(1_000 + 1_000);
    expect(proxy.dropped).toHaveLength(1);
    await sub.dispose();
  }, 30_000);
});

/** A script that keeps Redis busy for ARGV[1] ms: every other client's command waits behind it. */
const BUSY_SCRIPT = `
local t = redis.call('TIME')
local stop = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
repeat t = redis.call('TIME') until t[1] * 1000 + math.floor(t[2] / 1000) >= stop`;

/**
 * Connections to `url` of their own, closed after the test: `busy(ms)` keeps that Redis busy for
 * `ms` with {@link BUSY_SCRIPT}, resolving when it is free again; `free()` ends it at once
 * (SCRIPT KILL, from the second connection: the busy one waits for its script).
 */
async function redisBlocker(
  url: string,
): Promise<{ busy: (ms: number) => Promise<unknown>; free: () => Promise<unknown> }> {
  const [blocker, killer] = [new Redis(url, { lazyConnect: true }), new Redis(url, { lazyConnect: true })];
  keep({ dispose: () => (blocker.disconnect(), killer.disconnect()) });
  await Promise.all([blocker.connect(), killer.connect()]);
  return { busy: (ms) => blocker.eval(BUSY_SCRIPT, 0, ms), free: () => killer.script('KILL') };
}

/** The users `viewer` and `watched`, sharing a conversation, with `viewer` watching `watched`'s presence. */
async function presenceWatch(server: ParleyServer) {
  const [viewer, watched] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
  await buildConversation(server, viewer, watched);
  const watch = keep(
    await subscribeLive<PresenceChangedSubscription, Record<string, unknown>>(
      server,
      viewer,
      'presenceChanged',
      PresenceChangedDocument,
      { userIds: [watched.id] },
    ),
  );
  return { viewer, watched, watch };
}

/**
 * An instance on a private Redis whose commands time out after 200 ms, with the messages it logs
 * at warn and above.
 */
async function slowRedisInstance() {
  const redis = await privateRedis();
  const logged: Array<{ msg?: string }> = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void logged.push(JSON.parse(line) as { msg?: string }) },
  );
  const server = await instance({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '200' }, logger);
  return { redis, server, logged };
}

describe('a slow Redis', () => {
  it('announces a disconnect whose presence write timed out in Parley but ran in Redis', async () => {
    const { redis, server, logged } = await slowRedisInstance();
    const { viewer: alice, watched: bob, watch } = await presenceWatch(server);
    const bobSocket = keep(await connected(server, bob));
    const [online] = await watch.waitFor(1);
    expect(online.presenceChanged).toMatchObject({ userId: bob.id, status: 'ONLINE' });

    // Redis is busy for 1.5 s: the disconnect's script waits behind it, times out in Parley after
    // 200 ms, and then runs in Redis all the same.
    const blocker = await redisBlocker(redis.url);
    const busy = blocker.busy(1_500);
    await bobSocket.dispose();
    await busy;
    const [, offline] = await watch.waitFor(2, 10_000);
    expect(offline.presenceChanged).toMatchObject({ userId: bob.id, status: 'OFFLINE', connectionCount: 0 });
    // The path under test was taken: the first write timed out.
    expect(logged.map((l) => l.msg)).toContain('presence update failed; writing it again');
    const { presence } = await ok(server, PresenceDocument, { userIds: [bob.id] }, alice.token);
    expect(presence[0]).toMatchObject({ status: 'OFFLINE', connectionCount: 0 });
  }, 30_000);

  it('leaves a user OFFLINE who closed while their timed-out connect was still to be written again', async () => {
    const { redis, server, logged } = await slowRedisInstance();
    const { viewer: alice, watched: bob, watch } = await presenceWatch(server);

    // Redis is busy while bob connects: his connect times out in Parley (his socket is acknowledged
    // after that first attempt) and will be written again 250 ms later. Redis is free at once, and
    // bob leaves before that new attempt.
    const blocker = await redisBlocker(redis.url);
    const busy = blocker.busy(10_000).catch(() => undefined);
    const bobSocket = await connected(server, bob);
    expect(logged.map((l) => l.msg)).toContain('presence update failed; writing it again');
    await blocker.free();
    await busy;
    await bobSocket.dispose();
    // His disconnect waits for the connect written again: ONLINE, then OFFLINE (not the reverse,
    // which would leave him ONLINE with an entry nobody removes until it expires).
    const events = await watch.waitFor(2, 10_000);
    expect(events.map((e) => (e.presenceChanged as { status: string }).status)).toEqual(['ONLINE', 'OFFLINE']);
    const { presence } = await ok(server, PresenceDocument, { userIds: [bob.id] }, alice.token);
    expect(presence[0]).toMatchObject({ status: 'OFFLINE', connectionCount: 0 });
  }, 30_000);

  it('announces a status whose write timed out once the client sends it again', async () => {
    const { redis, server } = await slowRedisInstance();
    const { watched: bob, watch } = await presenceWatch(server);
    keep(await connected(server, bob));
    await watch.waitFor(1);

    // The first setPresenceStatus times out in Parley and then runs in Redis.
    const blocker = await redisBlocker(redis.url);
    const busy = blocker.busy(1_000);
    const first = await http(server, SetPresenceStatusDocument, { status: 'AWAY' }, bob.token);
    await busy;
    expect(codes(first)).toEqual(['SERVICE_UNAVAILABLE']);
    // The client tries again: nothing changes in the store, and the change is announced now.
    expect(
      (await ok(server, SetPresenceStatusDocument, { status: 'AWAY' }, bob.token)).setPresenceStatus,
    ).toMatchObject({
      status: 'AWAY',
    });
    const [, away] = await watch.waitFor(2, 5_000);
    expect(away.presenceChanged).toMatchObject({ userId: bob.id, status: 'AWAY' });
  }, 30_000);

  it("announces the users of a killed instance OFFLINE though the sweep's reply was lost", async () => {
    const redis = await privateRedis();
    // Heartbeat 1 s, TTL 3 s, sweep 0.5 s.
    const env = {
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '200',
      PRESENCE_HEARTBEAT_MS: '1000',
      PRESENCE_TTL_MS: '3000',
      PRESENCE_SWEEP_MS: '500',
    };
    const server = await instance(env);
    const doomed = keep(await setup.cluster.startChild(env));
    const { viewer: alice, watched: bob, watch } = await presenceWatch(server);
    keep(await connected(doomed, bob));
    await watch.waitFor(1);

    // Redis is busy from the kill until after bob's entry expired (at most 3 s after the kill):
    // the sweeps sent meanwhile time out in Parley, and the first of them, run once Redis is free,
    // removes the entry with nobody left to announce it.
    const blocker = await redisBlocker(redis.url);
    await doomed.kill();
    await blocker.busy(3_500);
    const { presence } = await ok(server, PresenceDocument, { userIds: [bob.id] }, alice.token);
    expect(presence[0]).toMatchObject({ status: 'OFFLINE', connectionCount: 0 });
    expect(watch.events).toHaveLength(1);
    // A later sweep finds the change unannounced past its grace period (5 s) and announces it.
    const [, offline] = await watch.waitFor(2, 15_000);
    expect(offline.presenceChanged).toMatchObject({ userId: bob.id, status: 'OFFLINE', connectionCount: 0 });
  }, 40_000);
});

describe('a PostgreSQL failure', () => {
  it('answers SERVICE_UNAVAILABLE, and a retry with the same clientMessageId stores the message once', async () => {
    const server = await instance({});
    const [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
    const conversationId = (await buildConversation(server, alice, bob)).id;
    const admin = new Client({ connectionString: setup.cluster.db.url });
    await admin.connect();
    keep({ dispose: () => admin.end() });
    const kill = () =>
      admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    const send = (clientMessageId: string) =>
      http(
        server,
        SendMessageDocument,
        { input: { conversationId, body: clientMessageId, clientMessageId } },
        alice.token,
      );

    const ids = Array.from({ length: 60 }, (_, i) => `retry-${i}`);
    const failures: Array<{
      id: string;
      status: number;
      retryAfter?: string;
      codes: unknown[];
      retryAfterMs: unknown;
    }> = [];
    // Sends in waves while the instance's connections are killed between them.
    for (let i = 0; i < ids.length; i += 10) {
      const wave = ids.slice(i, i + 10);
      const [results] = await Promise.all([Promise.all(wave.map(send)), kill()]);
      results.forEach((r, j) => {
        if (r.errors?.length)
          failures.push({
            id: wave[j],
            status: r.status,
            retryAfter: r.retryAfter,
            codes: codes(r),
            retryAfterMs: r.errors[0].extensions?.retryAfterMs,
          });
      });
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures)
      expect(f).toMatchObject({ status: 503, retryAfter: '1', codes: ['SERVICE_UNAVAILABLE'], retryAfterMs: 1000 });

    // Every send retried (the failed ones and the stored ones alike) is stored once.
    for (const id of ids) {
      const { value } = await eventually(async () => {
        const r = await send(id);
        return r.errors?.length ? null : r.data!.sendMessage;
      }, 10_000);
      expect(value.body).toBe(id);
    }
    const { rows } = await admin.query<{ client_message_id: string; n: number }>(
      'SELECT client_message_id, count(*)::int AS n FROM messages WHERE conversation_id = $1 GROUP BY 1',
      [conversationId],
    );
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  }, 60_000);
});
