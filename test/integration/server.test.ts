import { once } from 'node:events';
import { connect } from 'node:net';
import type { GraphQLFormattedError } from 'graphql';
import { Client } from 'pg';
import {
  MeDocument,
  MessageAddedDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
} from '../../src/client/generated';
import { codes, http, ok, Subscription, wsClient } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { startPrivateRedis } from '../support/redis';
import { TestCluster, useInstances } from '../support/server';
import { eventually } from '../support/wait';

// No instance yet: each test starts its own, with its own settings.
const setup = useInstances(0);
const { keep } = setup;
let cluster: TestCluster;
beforeAll(() => ({ cluster } = setup));

const get = (server: { url: string }, path: string) => fetch(server.url.replace(/\/graphql$/, path));

/** POSTs a body as it is (JSON the test wrote, or not JSON at all) to `/graphql`. */
async function postRaw(server: { url: string }, body: string, token?: string) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('operations endpoints', () => {
  it('answers /healthz, /readyz and /metrics', async () => {
    const server = await cluster.start();
    expect(await (await get(server, '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get(server, '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', failing: [] });
    const metrics = await (await get(server, '/metrics')).text();
    expect(metrics).toMatch(/^parley_db_queries_total \d+/m);
    expect(metrics).toMatch(/^parley_ws_connections 0/m);
  });

  it('starts several instances at once on an empty database (migrations run once)', async () => {
    // A cluster of its own: its database is still empty.
    const fresh = keep(await TestCluster.create());
    const servers = await Promise.all([fresh.start(), fresh.start(), fresh.start()]);
    const user = await buildUser(servers[0]);
    expect((await ok(servers[2], MeDocument, {}, user.token)).me.id).toBe(user.id);
  });
});

/** A raw HTTP/1.1 connection to an instance: what the test writes, what the server answered, when it closed. */
async function rawHttp(server: { url: string }) {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const closed = once(socket, 'close');
  return { socket, closed, received: () => received };
}

/** The head of a POST of `body` to /graphql on a kept-alive connection. */
const postHead = (body: string, headers = '') =>
  `POST /graphql HTTP/1.1\r\nHost: parley\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n`;

describe('graceful stop', () => {
  it('answers a request under way, closes idle keep-alive connections at once and accepts no new one', async () => {
    const server = await cluster.start();
    const body = JSON.stringify({ query: '{ __typename }' });
    // An idle keep-alive connection: one request answered, then nothing.
    const idle = await rawHttp(server);
    idle.socket.write(postHead(body) + body);
    await eventually(() => idle.received().includes('{"data":{"__typename":"Query"}}'), 10_000, 'the first answer');
    // A request under way: its head sent (the server's 100 Continue says it has read it), its body not yet.
    const busy = await rawHttp(server);
    busy.socket.write(postHead(body, 'Expect: 100-continue\r\n'));
    await eventually(() => busy.received().startsWith('HTTP/1.1 100 Continue'), 10_000, '100 Continue');

    const stopped = server.stop();
    await idle.closed;
    await expect(fetch(server.url.replace(/\/graphql$/, '/healthz'))).rejects.toThrow();
    expect(busy.socket.destroyed).toBe(false);
    busy.socket.write(body);
    await busy.closed;
    expect(busy.received()).toMatch(/\r\n\r\nHTTP\/1\.1 200 /);
    expect(busy.received()).toContain('{"data":{"__typename":"Query"}}');
    await stopped;
  });
});

describe('execution (graphql-jit behind Apollo Server)', () => {
  it('answers introspection, aliases, fragments, __typename and a null for a missing row as graphql-js does', async () => {
    const server = await cluster.start();
    const user = await buildUser(server);
    const res = await postRaw(
      server,
      JSON.stringify({
        query: `query Mixed($id: ID!) {
          __schema { queryType { name } subscriptionType { name } }
          message: __type(name: "Message") { fields { name } }
          self: me { ...Who kind: __typename }
          missing: conversation(id: $id) { id }
        }
        fragment Who on User { id username }`,
        variables: { id: '00000000-0000-4000-8000-000000000000' },
      }),
      user.token,
    );
    const body = JSON.parse(res.text) as {
      data: { __schema: unknown; message: { fields: Array<{ name: string }> }; self: unknown; missing: unknown };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.__schema).toEqual({ queryType: { name: 'Query' }, subscriptionType: { name: 'Subscription' } });
    expect(body.data.message.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['id', 'seq', 'body', 'sender']),
    );
    expect(body.data.self).toEqual({ id: user.id, username: user.username, kind: 'User' });
    expect(body.data.missing).toBeNull();
    expect(Object.keys(body.data)).toEqual(['__schema', 'message', 'self', 'missing']);
  });
});

describe('bad input', () => {
  // Variables that do not coerce to their declared types: graphql-js reports them before any
  // resolver runs, with a message naming the variable; the client caused them.
  const sendWithBody = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
  const pageOf =
    'query Page($conversationId: ID!, $first: Int) { messages(conversationId: $conversationId, first: $first) { edges { cursor } } }';

  it('is BAD_USER_INPUT over HTTP when a variable has the wrong type or is missing, with the variable named', async () => {
    const server = await cluster.start();
    const user = await buildUser(server);
    const post = async (query: string, variables: Record<string, unknown>) =>
      JSON.parse((await postRaw(server, JSON.stringify({ query, variables }), user.token)).text) as {
        errors?: Array<{ message: string; extensions?: { code?: string } }>;
      };
    const wrongType = await post(sendWithBody, { input: { conversationId: user.id, body: 5 } });
    expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
    expect(wrongType.errors![0].message).toMatch(/^Variable "\$input" got invalid value 5 at "input.body"/);
    const missing = await post(pageOf, { first: 'ten' });
    expect(codes(missing)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    expect(missing.errors!.map((e) => e.message.slice(0, 25))).toEqual([
      'Variable "$conversationId',
      'Variable "$first" got inv',
    ]);
  });

  it('answers a body that is not JSON, or over 1 MB, with a GraphQL error coded BAD_REQUEST (400 / 413), not an HTML page', async () => {
    const server = await cluster.start();
    const post = (body: string) => postRaw(server, body);
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    expect(malformed.type).toMatch(/^application\/json/);
    expect(JSON.parse(malformed.text)).toEqual({
      errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
    });
    const huge = await post(JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1_100_000) } }));
    expect(huge.status).toBe(413);
    const tooLarge = JSON.parse(huge.text) as { errors: Array<{ extensions: { code: string } }> };
    expect(tooLarge.errors[0].extensions.code).toBe('BAD_REQUEST');
    // The instance still answers.
    expect(await post(JSON.stringify({ query: '{ __typename }' }))).toMatchObject({
      status: 200,
      text: '{"data":{"__typename":"Query"}}\n',
    });
  });

  it('answers a subscription sent over HTTP with 400 BAD_REQUEST pointing to WebSocket', async () => {
    const server = await cluster.start();
    const user = await buildUser(server);
    const answer = await postRaw(server, JSON.stringify({ query: 'subscription { messageAdded { id } }' }), user.token);
    expect(answer.status).toBe(400);
    const { errors, data } = JSON.parse(answer.text) as {
      errors: Array<{ message: string; extensions: { code: string } }>;
      data?: unknown;
    };
    expect(codes({ errors })).toEqual(['BAD_REQUEST']);
    expect(errors[0].message).toMatch(/WebSocket/);
    expect(data).toBeUndefined();
  });

  it('is BAD_USER_INPUT over WebSocket too', async () => {
    const server = await cluster.start();
    const user = await buildUser(server);
    const client = keep(wsClient(server, { authorization: `Bearer ${user.token}` }));
    const errors = await new Promise<readonly GraphQLFormattedError[]>((resolve, reject) => {
      client.subscribe(
        { query: sendWithBody, variables: { input: { conversationId: user.id, body: 5 } } },
        {
          next: (r) => r.errors && resolve(r.errors),
          error: (e) => (Array.isArray(e) ? resolve(e) : reject(e)),
          complete: () => undefined,
        },
      );
    });
    expect(codes({ errors })).toEqual(['BAD_USER_INPUT']);
    expect(errors[0].message).toMatch(/^Variable "\$input" got invalid value 5/);
  });
});

describe('faults', () => {
  it('masks an internal failure: INTERNAL_SERVER_ERROR, no SQL or stack, and recovers', async () => {
    const server = await cluster.start();
    const user = await buildUser(server);
    const admin = new Client({ connectionString: cluster.db.url });
    await admin.connect();
    try {
      await admin.query('ALTER TABLE users RENAME TO users_away');
      const result = await http(server, MeDocument, {}, user.token);
      expect(codes(result)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(result.errors![0].message).toBe('Internal server error');
      expect(JSON.stringify(result)).not.toMatch(/users_away|relation|SELECT|at .*\.ts/);
    } finally {
      await admin.query('ALTER TABLE users_away RENAME TO users');
      await admin.end();
    }
    expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);
  });

  it('reports not ready while Redis is down, and delivers again once it is back', async () => {
    const redis = await startPrivateRedis();
    try {
      const server = await cluster.start({ REDIS_URL: redis.url, REDIS_PREFIX: 'fault:' });
      expect((await get(server, '/readyz')).status).toBe(200);

      redis.kill();
      await eventually(async () => (await get(server, '/readyz')).status === 503);
      const down = await get(server, '/readyz');
      expect(((await down.json()) as { failing: string[] }).failing).toEqual(expect.arrayContaining(['pubsub']));

      await redis.restart();
      await eventually(async () => (await get(server, '/readyz')).status === 200, 15_000);
      // The new Redis is empty: register, then chat as usual.
      const [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
      const id = (await buildConversation(server, alice, bob)).id;
      const client = wsClient(server, { authToken: bob.token });
      const sub = new Subscription<MessageAddedSubscription>(client, MessageAddedDocument, {
        after: [{ conversationId: id, seq: 0 }],
      });
      await ok(server, SendMessageDocument, { input: { conversationId: id, body: 'after the outage' } }, alice.token);
      expect((await sub.waitFor(1))[0].messageAdded.body).toBe('after the outage');
      // Closed while this Redis still runs.
      await sub.dispose();
      await client.dispose();
    } finally {
      redis.kill();
    }
  }, 40_000);
});
