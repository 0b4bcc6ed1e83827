import { isUtf8 } from 'node:buffer';
import { print } from 'graphql';
import WebSocket from 'ws';
import type { ParleyServer } from '../../src/app/server';
import {
  ConversationsDocument,
  LoginDocument,
  MessagesDocument,
  SendMessageDocument,
  TypingDocument,
} from '../../src/client/generated';
import { codes, connected, http, ok, wsClient } from '../support/clients';
import { subscribeLive } from '../support/live';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { startPrivateRedis } from '../support/redis';
import { TestCluster, useTwoInstances, type Env } from '../support/server';
import { eventually } from '../support/wait';

/** Tight limits (windows of 1 s) so that refusals and recovery both happen within a test. */
const TIGHT: Env = {
  RATE_LIMIT_SEND: '3/1',
  RATE_LIMIT_SEND_BURST: '0',
  LOGIN_LOCKOUT_FAILURES: '2',
  LOGIN_LOCKOUT_SECONDS: '1',
  LOGIN_LOCKOUT_MAX_SECONDS: '2',
  WS_MAX_SUBSCRIPTIONS: '2',
  GRAPHQL_MAX_DEPTH: '9',
  GRAPHQL_MAX_ALIASES: '3',
  GRAPHQL_MAX_TOKENS: '500',
  MAX_REQUEST_BYTES: String(64 * 1024),
};

const setup = useTwoInstances(TIGHT);
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

/** A raw POST of `query` (any text) with its status, headers and JSON answer. */
async function post(server: { url: string }, query: string, variables: object = {}, token?: string) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: unknown;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
  return { status: res.status, headers: res.headers, ...body };
}

/** The one result of `query` over a graphql-ws socket of `user`. */
async function overWs(server: ParleyServer, user: TestUser, query: string, variables: Record<string, unknown> = {}) {
  const client = keep(await connected(server, user));
  return new Promise<{ data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>(
    (resolve) => {
      let result: { data?: unknown; errors?: never[] } = {};
      client.subscribe(
        { query, variables },
        {
          next: (value) => (result = value as typeof result),
          error: (errors) => resolve({ errors: errors as never[] }),
          complete: () => resolve(result),
        },
      );
    },
  );
}

const send = (server: ParleyServer, user: TestUser, conversationId: string, body = 'hi') =>
  http(server, SendMessageDocument, { input: { conversationId, body } }, user.token);

async function pair() {
  const [alice, bob] = await Promise.all([buildUser(a, { prefix: 'alice' }), buildUser(a, { prefix: 'bob' })]);
  return { alice, bob, id: (await buildConversation(a, alice, bob)).id };
}

const messageCount = async (user: TestUser, conversationId: string) =>
  (await ok(a, MessagesDocument, { conversationId, first: 100 }, user.token)).messages.edges.length;

describe('rate limits', () => {
  it('refuses sends past the limit across instances with 429 and retryAfterMs; others go on; the sender resumes', async () => {
    const { alice, bob, id } = await pair();
    // One window shared by both instances (Redis): 3 sends, wherever they land.
    await eventually(
      async () => {
        const results = [await send(a, alice, id), await send(b, alice, id), await send(a, alice, id)];
        return results.every((r) => !r.errors);
      },
      5_000,
      'three sends in one window',
    );
    const refused = await send(b, alice, id);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.status).toBe(429);
    const retryAfterMs = refused.errors![0].extensions!.retryAfterMs as number;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);
    expect(refused.errors![0].extensions!.limit).toBe('send');
    const raw = await post(b, print(SendMessageDocument), { input: { conversationId: id, body: 'x' } }, alice.token);
    expect(raw.headers.get('retry-after')).toBe('1');

    // bob is not affected; over WebSocket alice is refused alike.
    expect((await send(a, bob, id)).errors).toBeUndefined();
    const viaWs = await overWs(a, alice, print(SendMessageDocument), { input: { conversationId: id, body: 'ws' } });
    expect(viaWs.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(viaWs.errors?.[0].extensions?.retryAfterMs).toEqual(expect.any(Number));

    // Counted by limit and reason.
    const refusals = await b.metrics.refusals.get();
    expect(refusals.values).toContainEqual(expect.objectContaining({ labels: { limit: 'send', reason: 'rate' } }));

    // After retryAfterMs the sender goes on.
    await eventually(async () => !(await send(a, alice, id, 'later')).errors, 5_000, 'send accepted again');
  });

  it('counts a burst of concurrent sends from two users on two instances exactly, each user on its own', async () => {
    const { alice, bob, id } = await pair();
    // Ten sends per user at once, half on each instance: the points taken in one event-loop turn
    // reach Redis in one call, which must count them as ten separate calls would.
    const burst = (user: TestUser) =>
      Array.from({ length: 10 }, (_, i) => send(i % 2 ? b : a, user, id, `${user.username} ${i}`));
    const results = await Promise.all([...burst(alice), ...burst(bob)]);
    for (const user of [alice, bob]) {
      const mine = results.filter((_, i) => (i < 10 ? alice : bob) === user);
      expect(mine.filter((r) => !r.errors)).toHaveLength(3);
      expect(mine.filter((r) => r.errors).map((r) => codes(r)[0])).toEqual(Array(7).fill('RATE_LIMITED'));
    }
    // Nothing refused was written.
    expect(await messageCount(alice, id)).toBe(6);
  });

  it('locks a username after consecutive failures for unknown and known users alike; success resets', async () => {
    const alice = await buildUser(a, { prefix: 'alice' });
    const login = (username: string, password: string, server = a) =>
      http(server, LoginDocument, { input: { username, password } });
    for (const username of [alice.username, `nobody_${Date.now()}`]) {
      expect(codes(await login(username, 'wrong-password'))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await login(username, 'wrong-password', b))).toEqual(['UNAUTHENTICATED']);
      // Locked now, even for the right password, on either instance.
      const locked = await login(username, username === alice.username ? alice.password : 'x', b);
      expect(codes(locked)).toEqual(['RATE_LIMITED']);
      expect(locked.status).toBe(429);
      expect(locked.errors![0].extensions!.retryAfterMs).toEqual(expect.any(Number));
    }
    await eventually(async () => !(await login(alice.username, alice.password)).errors, 5_000, 'login after the lock');
    // The success cleared the count: one failure does not lock.
    expect(codes(await login(alice.username, 'wrong-password'))).toEqual(['UNAUTHENTICATED']);
    expect((await login(alice.username, alice.password)).errors).toBeUndefined();
  });

  it('counts each aliased login field against the per-address limit, refusing the document before any password is checked', async () => {
    const cluster = keep(await TestCluster.create());
    const server = await cluster.start({ RATE_LIMIT_LOGIN_IP: '3/60' });
    const user = await buildUser(server, { prefix: 'alias' });
    const fields = [1, 2, 3, 4]
      .map((i) => `l${i}: login(input: { username: "${user.username}", password: "${user.password}" }) { token }`)
      .join(' ');
    const before = server.metrics.dbQueries.get();
    const refused = await post(server, `mutation { ${fields} }`);
    expect(refused.status).toBe(429);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(refused.data).toBeUndefined();
    // No resolver ran: no user was read.
    expect((await before).values[0].value).toBe((await server.metrics.dbQueries.get()).values[0].value);
  });

  it('caps open sockets per user across instances with close 4429, and admits again once one closes', async () => {
    const cluster = keep(await TestCluster.create());
    const [a, b] = [
      await cluster.start({ WS_MAX_CONNECTIONS_PER_USER: '2' }),
      await cluster.start({ WS_MAX_CONNECTIONS_PER_USER: '2' }),
    ];
    const alice = await buildUser(a, { prefix: 'alice' });
    const first = keep(await connected(a, alice));
    keep(await connected(b, alice));
    const third = keep(wsClient(a, { authToken: alice.token }));
    const closed = await third.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/Too many open connections/);
    // Another user is not affected.
    keep(await connected(b, await buildUser(a, { prefix: 'bob' })));
    await first.dispose();
    await eventually(
      async () => {
        const again = keep(wsClient(b, { authToken: alice.token }));
        return again.acknowledged.then(
          () => true,
          () => false,
        );
      },
      5_000,
      'a socket admitted again',
    );
  });

  it('caps subscriptions per socket with RATE_LIMITED, and accepts another once one completes', async () => {
    const { alice, id } = await pair();
    const client = keep(await connected(a, alice));
    const first = await subscribeLive(a, client, 'typing', TypingDocument, { conversationId: id });
    keep(await subscribeLive(a, client, 'typing', TypingDocument, { conversationId: id }));
    const third = keep(await subscribeLive(a, client, 'typing', TypingDocument, { conversationId: id }));
    const refusal = third.errors as Array<Array<{ extensions?: { code?: string } }>>;
    expect(refusal.map((errors) => errors.map((e) => e.extensions?.code))).toEqual([['RATE_LIMITED']]);
    await first.dispose();
    await eventually(
      async () => {
        const next = keep(await subscribeLive(a, client, 'typing', TypingDocument, { conversationId: id }));
        return next.errors.length === 0;
      },
      5_000,
      'a subscription accepted after one completed',
    );
  });

  it('keeps limiting, without 500s, while Redis is down (in-memory insurance)', async () => {
    const redis = await startPrivateRedis();
    try {
      const cluster = keep(await TestCluster.create());
      // A window longer than the test: each send waits for its publish to fail while Redis is down.
      const server = await cluster.start({
        RATE_LIMIT_SEND: '3/60',
        REDIS_URL: redis.url,
        SESSION_CACHE_MS: '60000',
      });
      const [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
      const id = (await buildConversation(server, alice, bob)).id;
      // The session is cached: requests authenticate without Redis.
      expect((await send(server, alice, id)).errors).toBeUndefined();
      redis.kill();
      // The in-memory insurance limiter counts from zero: three more are accepted, the fourth refused.
      for (let i = 0; i < 3; i++) {
        const accepted = await send(server, alice, id);
        expect([accepted.status, accepted.errors]).toEqual([200, undefined]);
      }
      const refused = await send(server, alice, id);
      expect([refused.status, codes(refused)]).toEqual([429, ['RATE_LIMITED']]);
    } finally {
      redis.kill();
    }
  }, 90_000);
});

describe('GraphQL limits', () => {
  /** `sendMessage` nested `depth` levels deep through message -> conversation -> lastMessage. */
  const deepSend = (id: string, depth: number) => {
    let inner = 'id';
    for (let i = 0; i < depth; i++) inner = i % 2 ? `conversation { ${inner} }` : `lastMessage { ${inner} }`;
    return `mutation { sendMessage(input: { conversationId: "${id}", body: "deep" }) { conversation { ${inner} } } }`;
  };

  it('refuses too deep, too aliased and too costly operations on both transports before any resolver runs', async () => {
    const { alice, bob, id } = await pair();
    const carol = await buildUser(a, { prefix: 'carol' });
    const aliased = `mutation { ${[1, 2, 3, 4].map((i) => `s${i}: sendMessage(input: { conversationId: "${id}", body: "a" }) { id }`).join(' ')} }`;
    // 100 messages, each with 100 messages of its conversation: over 20,000 at depth 8.
    const costly = `mutation { startConversation(participantIds: ["${carol.id}"]) {
      messages(first: 100) { edges { node { conversation { messages(first: 100) { edges { node { id } } } } } } } } }`;
    for (const [query, limit] of [
      [deepSend(id, 10), /depth/i],
      [aliased, /alias/i],
      [costly, /cost/i],
    ] as const) {
      const viaHttp = await post(a, query, {}, alice.token);
      expect(viaHttp.status).toBe(400);
      expect(viaHttp.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(viaHttp.errors?.[0].message).toMatch(limit);
      const viaWs = await overWs(b, alice, query);
      expect(viaWs.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(viaWs.errors?.[0].message).toMatch(limit);
    }
    // None of the resolvers ran: no message stored, no conversation with carol started.
    expect(await messageCount(alice, id)).toBe(0);
    expect((await ok(a, ConversationsDocument, { first: 10 }, carol.token)).conversations.edges).toEqual([]);
    void bob;
    // Within the limits the same shapes run.
    expect((await post(a, deepSend(id, 3), {}, alice.token)).errors).toBeUndefined();
  });

  it('costs one document by its variables: the same text is refused with a bigger page or more fields', async () => {
    const alice = await buildUser(a, { prefix: 'alice' });
    // About 303 per conversation: 20,000 allows 10 of them and refuses 100.
    const query = `query Pages($n: Int!, $deep: Boolean!) { conversations(first: $n) { edges { node { id
      messages(first: 100) @include(if: $deep) { edges { node { id } } } } } } }`;
    const cost = async (n: number, deep: boolean) => {
      const r = await post(a, query, { n, deep }, alice.token);
      return r.errors?.[0].extensions?.limit === 'cost' ? 'refused' : r.errors ? r.errors[0].message : 'ran';
    };
    expect(await cost(10, true)).toBe('ran');
    expect(await cost(100, true)).toBe('refused');
    expect(await cost(10, true)).toBe('ran');
    expect(await cost(100, false)).toBe('ran');
    expect(await cost(100, true)).toBe('refused');
  });

  it('refuses documents over the token limit', async () => {
    const alice = await buildUser(a, { prefix: 'alice' });
    const query = `query { me { ${Array.from({ length: 600 }, () => 'id').join(' ')} } }`;
    const refused = await post(a, query, {}, alice.token);
    expect(refused.errors?.[0].message).toMatch(/token/i);
    expect((await overWs(a, alice, query)).errors?.[0].message).toMatch(/token/i);
  });

  it('turns introspection and field suggestions off in production, each overridable', async () => {
    const cluster = keep(await TestCluster.create());
    const prod = await cluster.start({ NODE_ENV: 'production' });
    const alice = await buildUser(prod, { prefix: 'alice' });
    const introspection = '{ __schema { queryType { name } } }';
    const typo = '{ mee { id } }';
    const refused = await post(prod, introspection, {}, alice.token);
    expect(refused.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await overWs(prod, alice, introspection)).errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await post(prod, typo, {}, alice.token)).errors?.[0].message).not.toMatch(/Did you mean/);
    expect((await overWs(prod, alice, typo)).errors?.[0].message).not.toMatch(/Did you mean/);

    // Development (the test default) suggests and answers introspection.
    const bob = await buildUser(a, { prefix: 'bob' });
    expect((await post(a, introspection, {}, bob.token)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await post(a, typo, {}, bob.token)).errors?.[0].message).toMatch(/Did you mean "me"/);
    expect((await overWs(a, bob, typo)).errors?.[0].message).toMatch(/Did you mean "me"/);

    const overridden = await cluster.start({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' });
    expect((await post(overridden, introspection, {}, alice.token)).data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
  });

  it('closes a socket with 1009 for a frame over the body limit, before parsing it', async () => {
    const alice = await buildUser(a, { prefix: 'alice' });
    const socket = new WebSocket(a.wsUrl, 'graphql-transport-ws');
    keep({ dispose: () => socket.terminate() });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: alice.token } }));
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ me { id } } #${'x'.repeat(70 * 1024)}` } }),
    );
    expect(await closed).toBe(1009);
    // HTTP refuses a body over the same limit.
    expect((await post(a, `{ me { id } } #${'x'.repeat(70 * 1024)}`, {}, alice.token)).status).toBe(413);
  });
});

describe('input hygiene', () => {
  it('answers NUL characters and lone surrogates with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const { alice, id } = await pair();
    for (const body of ['a\u0000b', 'a\ud800b', '\udc00']) {
      const viaHttp = await send(a, alice, id, body);
      expect(codes(viaHttp)).toEqual(['BAD_USER_INPUT']);
      expect(viaHttp.errors![0].extensions!.field).toBe('body');
      const viaWs = await overWs(b, alice, print(SendMessageDocument), { input: { conversationId: id, body } });
      expect(viaWs.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    // No token needed to reach login: still BAD_USER_INPUT, not a 500.
    const login = await http(a, LoginDocument, { input: { username: 'a\u0000b', password: 'password123' } });
    expect(codes(login)).toEqual(['BAD_USER_INPUT']);
    expect(login.errors![0].extensions!.field).toBe('username');
    const search = await post(
      a,
      'query($s: String) { users(search: $s) { edges { node { id } } } }',
      { s: '\u0000' },
      alice.token,
    );
    expect(search.errors?.[0].extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'search' }));
    expect(await messageCount(alice, id)).toBe(0);
    // Astral characters (well-formed surrogate pairs) are stored exactly as sent.
    expect(
      (await ok(a, SendMessageDocument, { input: { conversationId: id, body: 'ok 😀' } }, alice.token)).sendMessage
        .body,
    ).toBe('ok 😀');
  });

  it('refuses a body that is not valid UTF-8 rather than altering it', async () => {
    const alice = await buildUser(a, { prefix: 'alice' });
    const json = Buffer.concat([
      Buffer.from('{"query":"{ me { id } }","variables":{"x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    expect(isUtf8(json)).toBe(false);
    const res = await fetch(a.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: json,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe(
      'BAD_REQUEST',
    );
  });

  it('closes a socket that sends a frame which is not UTF-8 with 1007', async () => {
    const socket = new WebSocket(a.wsUrl, 'graphql-transport-ws');
    keep({ dispose: () => socket.terminate() });
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
    expect(await closed).toBe(1007);
  });

  it('answers a cursor past 2^31 with BAD_USER_INPUT', async () => {
    const { alice, id } = await pair();
    const after = Buffer.from(JSON.stringify(['message', 2 ** 31])).toString('base64url');
    const result = await http(a, MessagesDocument, { conversationId: id, first: 10, after }, alice.token);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });
});
