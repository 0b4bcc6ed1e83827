import { createECDH, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Client } from 'pg';
import webpush from 'web-push';
import type { ParleyServer } from '../../src/app/server';
import {
  RegisterPushSubscriptionDocument,
  SendMessageDocument,
  UnregisterPushSubscriptionDocument,
  WebPushPublicKeyDocument,
} from '../../src/client/generated';
import { codes, http, ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { freePort, useTwoInstances, type Env } from '../support/server';
import { eventually } from '../support/wait';

/** A request the local receivers got. */
interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A local HTTP server recording requests; answers the statuses queued for a path, then `fallback`. */
class Receiver {
  readonly requests: Received[] = [];
  readonly statuses = new Map<string, number[]>();
  private server: Server | null = null;
  port = 0;
  constructor(private readonly fallback: number) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ path: req.url ?? '', headers: req.headers, body });
        const key = this.keyOf(req.url ?? '', body);
        res.statusCode = this.statuses.get(key)?.shift() ?? this.fallback;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** Webhook requests by `<recipient id>:<kind>`; push requests by path. */
  keyOf(path: string, body: Buffer): string {
    if (path !== '/hook') return path;
    const json = JSON.parse(body.toString()) as { recipient: { id: string }; kind: string };
    return `${json.recipient.id}:${json.kind}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const SECRET = 'a-webhook-secret-of-some-length';
const vapid = webpush.generateVAPIDKeys();
const hooks = new Receiver(200);
const pushes = new Receiver(201);
const env: Env = {
  // The window must outlast five sends and their jobs on a loaded two-core CI machine (a 1 s window
  // once closed after the third message there); the assertions below stay exact.
  NOTIFY_COALESCE_MS: '3000',
  NOTIFY_WEBHOOK_SECRET: SECRET,
  VAPID_PUBLIC_KEY: vapid.publicKey,
  VAPID_PRIVATE_KEY: vapid.privateKey,
  VAPID_SUBJECT: 'mailto:ops@example.com',
};
beforeAll(async () => {
  await Promise.all([hooks.start(), pushes.start()]);
  env.NOTIFY_WEBHOOK_URL = `http://127.0.0.1:${hooks.port}/hook`;
});
afterAll(() => Promise.all([hooks.stop(), pushes.stop()]));

const setup = useTwoInstances(env);
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

const send = (server: ParleyServer, user: TestUser, conversationId: string, body: string) =>
  ok(server, SendMessageDocument, { input: { conversationId, body } }, user.token).then((d) => d.sendMessage);
/** Webhook deliveries of NEW_MESSAGE to `user`, parsed. */
const hooksFor = (user: TestUser) =>
  hooks.requests
    .map((r) => ({
      ...r,
      json: JSON.parse(r.body.toString()) as Record<string, unknown> & { recipient: { id: string } },
    }))
    .filter((r) => r.json.recipient.id === user.id && r.json.kind === 'NEW_MESSAGE');
/** Sum of a delivery counter over both instances. */
async function deliveries(channel: string, outcome: string): Promise<number> {
  let sum = 0;
  for (const s of [a, b]) {
    const { values } = await s.metrics.registry.getSingleMetric('parley_notify_deliveries_total')!.get();
    sum += values.find((v) => v.labels.channel === channel && v.labels.outcome === outcome)?.value ?? 0;
  }
  return sum;
}

/** How many Web Push subscriptions `user` has stored. */
async function subscriptionsOf(user: TestUser): Promise<number> {
  const client = new Client({ connectionString: setup.cluster.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM push_subscriptions WHERE user_id = $1',
      [user.id],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function pair() {
  const [alice, bob] = await Promise.all(['alice', 'bob'].map((prefix) => buildUser(a, { prefix })));
  return { alice, bob, conversationId: (await buildConversation(a, alice, bob)).id };
}

describe('the webhook', () => {
  it('gets one signed delivery for five quick messages, with the count and the newest message', async () => {
    const { alice, bob, conversationId } = await pair();
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await send(i % 2 ? a : b, alice, conversationId, `m${i}`));
    const { value } = await eventually(() => hooksFor(bob).length > 0 && hooksFor(bob), 10_000, 'a delivery');
    expect(value).toHaveLength(1);
    const [hook] = value;
    expect(hook.headers['content-type']).toBe('application/json');
    const mac = createHmac('sha256', SECRET).update(hook.body).digest('hex');
    expect(hook.headers['x-parley-signature']).toBe(`sha256=${mac}`);
    expect(hook.headers['x-parley-delivery']).toBe(hook.json.deliveryId);
    expect(typeof hook.json.deliveryId).toBe('string');
    expect(Date.parse(hook.json.createdAt as string)).toBeGreaterThan(0);
    expect(hook.json).toEqual({
      deliveryId: hook.json.deliveryId,
      recipient: { id: bob.id, username: bob.username },
      kind: 'NEW_MESSAGE',
      conversationId,
      count: 5,
      message: {
        id: sent[4].id,
        seq: 5,
        body: 'm4',
        createdAt: sent[4].createdAt,
        sender: { id: alice.id, username: alice.username, displayName: alice.displayName },
      },
      createdAt: hook.json.createdAt,
    });
  });

  it('retries a 500 with the same delivery id, and never a 400', async () => {
    const { alice, bob, conversationId } = await pair();
    hooks.statuses.set(`${bob.id}:NEW_MESSAGE`, [500]);
    await send(a, alice, conversationId, 'retry me');
    const { value } = await eventually(() => hooksFor(bob).length >= 2 && hooksFor(bob), 15_000, 'the retry');
    expect(value.map((r) => r.headers['x-parley-delivery'])).toEqual([
      value[0].json.deliveryId,
      value[0].json.deliveryId,
    ]);

    const other = await pair();
    hooks.statuses.set(`${other.bob.id}:NEW_MESSAGE`, [400, 200]);
    const failedBefore = await deliveries('webhook', 'failed');
    await send(a, other.alice, other.conversationId, 'refused');
    // A 4xx fails the job for good: once counted, no retry can come.
    await eventually(async () => (await deliveries('webhook', 'failed')) > failedBefore, 10_000, 'the 400');
    expect(hooksFor(other.bob)).toHaveLength(1);
  });

  it('sends nothing when the recipient read past the newest message within the window', async () => {
    const { alice, bob, conversationId } = await pair();
    const skippedBefore = await deliveries('all', 'skipped_read');
    await send(a, alice, conversationId, 'seen at once');
    // bob replies at once: his read position moves past alice's message.
    await send(b, bob, conversationId, 'reply');
    await eventually(async () => (await deliveries('all', 'skipped_read')) > skippedBefore, 10_000, 'the skip');
    expect(hooksFor(bob)).toEqual([]);
  });
});

describe('Web Push', () => {
  /** A browser's subscription keys (P-256 public key and auth secret, base64url). */
  const browserKeys = () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  };

  it('sends the encrypted payload with VAPID headers, and forgets a subscription answered 410', async () => {
    expect((await ok(b, WebPushPublicKeyDocument, {}, undefined)).webPushPublicKey).toBe(vapid.publicKey);
    const { alice, bob, conversationId } = await pair();
    const endpoint = `http://127.0.0.1:${pushes.port}/push/${bob.id}`;
    const register = (input: { endpoint: string; p256dh: string; auth: string }) =>
      http(a, RegisterPushSubscriptionDocument, { input }, bob.token);
    expect((await register({ endpoint, ...browserKeys() })).data?.registerPushSubscription).toBe(true);
    expect(await subscriptionsOf(bob)).toBe(1);
    expect(codes(await register({ endpoint: 'not a url', ...browserKeys() }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await register({ endpoint, p256dh: 'not base64url!', auth: 'x' }))).toEqual(['BAD_USER_INPUT']);

    await send(a, alice, conversationId, 'pushed');
    const forBob = () => pushes.requests.filter((r) => r.path === `/push/${bob.id}`);
    const { value } = await eventually(() => forBob().length > 0 && forBob(), 10_000, 'a push');
    const [push] = value;
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    expect(push.headers.authorization).toMatch(
      new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${vapid.publicKey}$`),
    );
    expect(Number(push.headers.ttl)).toBeGreaterThan(0);
    expect(push.body.length).toBeGreaterThan(100);
    expect(push.body.toString()).not.toContain('pushed');

    pushes.statuses.set(`/push/${bob.id}`, [410]);
    await send(b, alice, conversationId, 'gone');
    await eventually(async () => (await subscriptionsOf(bob)) === 0, 10_000, 'the subscription removed');
    const unregister = await ok(a, UnregisterPushSubscriptionDocument, { endpoint }, bob.token);
    expect(unregister.unregisterPushSubscription).toBe(false);
  });
});
