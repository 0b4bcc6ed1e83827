import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import {
  MarkConversationReadDocument,
  MessageAddedDocument,
  MessageAddedWithReadStateDocument,
  type MessageAddedWithReadStateSubscription,
  SendMessageDocument,
  StartConversationDocument,
  type MessageAddedSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { http, ok, registerUser, Subscription, wsClient, type TestUser } from '../support/clients';
import { TestCluster } from '../support/server';

let cluster: TestCluster;
let a: ParleyServer;
let b: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
let conversationId: string;
const clients: Array<{ dispose: () => Promise<void> | void }> = [];

beforeAll(async () => {
  cluster = await TestCluster.create();
  [a, b] = [await cluster.start(), await cluster.start()];
  [alice, bob, mallory] = await Promise.all([registerUser(a, 'alice'), registerUser(a, 'bob'), registerUser(a, 'mallory')]);
  conversationId = (await ok(a, StartConversationDocument, { participantIds: [bob.id] }, alice.token)).startConversation.id;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(() => cluster.stop());

/** A subscriber on `server`, its socket acknowledged and its subscription live on the server. */
async function subscribe(server: ParleyServer, user: TestUser, variables: Record<string, unknown> = {}) {
  const client = wsClient(server, { authToken: user.token });
  clients.push(client);
  const before = await liveStreams(server);
  const sub = new Subscription<MessageAddedSubscription>(client, MessageAddedDocument, variables);
  // graphql-ws has no "subscribed" acknowledgement: wait until the server counts one more stream
  // set up or the subscription fails, so that a message sent now must be delivered. A monotonic
  // counter: other streams ending meanwhile cannot hide the new one.
  const deadline = Date.now() + 10_000;
  while ((await liveStreams(server)) <= before && sub.errors.length === 0 && !sub.completed) {
    if (Date.now() > deadline) throw new Error('the subscription was not set up within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  return sub;
}

const liveStreams = async (server: ParleyServer) => (await server.metrics.messageStreamsStarted.get()).values[0]?.value ?? 0;

const send = (server: ParleyServer, user: TestUser, body: string, id = conversationId, clientMessageId?: string) =>
  ok(server, SendMessageDocument, { input: { conversationId: id, body, clientMessageId } }, user.token).then((d) => d.sendMessage);

const bodies = (events: MessageAddedSubscription[]) => events.map((e) => e.messageAdded.body);

describe('messageAdded', () => {
  it('delivers a message sent through instance A to a subscriber on instance B', async () => {
    const sub = await subscribe(b, bob, {});
    const sent = await send(a, alice, 'across instances');
    const [event] = await sub.waitFor(1);
    expect(event.messageAdded).toEqual(sent);
  });

  it('does not echo my own messages unless includeOwn is true', async () => {
    const plain = await subscribe(b, alice, { conversationId });
    const echo = await subscribe(a, alice, { conversationId, includeOwn: true });
    await send(a, alice, 'mine');
    await send(b, bob, 'theirs');
    expect(bodies(await plain.waitFor(1))).toEqual(['theirs']);
    expect(bodies(await echo.waitFor(2))).toEqual(['mine', 'theirs']);
  });

  it('delivers an idempotent retry once', async () => {
    const sub = await subscribe(b, bob, { conversationId });
    const key = randomUUID();
    await send(a, alice, 'retried', conversationId, key);
    await send(b, alice, 'retried', conversationId, key);
    await send(a, alice, 'next');
    expect(bodies(await sub.waitFor(2))).toEqual(['retried', 'next']);
  });

  it('is FORBIDDEN for a conversation I am not in, and never leaks its messages', async () => {
    const denied = await subscribe(b, mallory, { conversationId });
    expect(await denied.failure()).toEqual(['FORBIDDEN']);
    const denied2 = await subscribe(b, mallory, { after: [{ conversationId, seq: 0 }] });
    expect(await denied2.failure()).toEqual(['FORBIDDEN']);

    const all = await subscribe(a, mallory, {});
    const own = (await ok(a, StartConversationDocument, { participantIds: [alice.id] }, mallory.token)).startConversation.id;
    await send(a, alice, 'not for mallory');
    await send(b, alice, 'for mallory', own);
    const events = await all.waitFor(1);
    expect(bodies(events)).toEqual(['for mallory']);
  });

  it('follows conversations created after subscribing, from their first message', async () => {
    const carol = await registerUser(a, 'carol');
    const sub = await subscribe(b, carol, {});
    await ok(a, SendMessageDocument, { input: { participantIds: [carol.id, bob.id], body: 'welcome' } }, alice.token);
    const [event] = await sub.waitFor(1);
    expect(event.messageAdded).toMatchObject({ body: 'welcome', seq: 1 });
  });

  it('keeps seq order within a conversation while both instances send concurrently', async () => {
    const dave = await registerUser(a, 'dave');
    const id = (await ok(a, StartConversationDocument, { participantIds: [bob.id, alice.id] }, dave.token)).startConversation.id;
    const onA = await subscribe(a, dave, { conversationId: id });
    const onB = await subscribe(b, dave, {});
    await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? a : b, i % 3 ? alice : bob, `c${i}`, id)));
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    expect((await onA.waitFor(40)).map((e) => e.messageAdded.seq)).toEqual(expected);
    expect((await onB.waitFor(40)).map((e) => e.messageAdded.seq)).toEqual(expected);
  });

  it('replays after a position then continues live, exactly once and in order, while another client keeps sending', async () => {
    const erin = await registerUser(a, 'erin');
    const id = (await ok(a, StartConversationDocument, { participantIds: [alice.id] }, erin.token)).startConversation.id;
    for (let i = 1; i <= 30; i++) await send(a, alice, `r${i}`, id);

    // A sender keeps going on both instances while erin resumes from seq 10.
    let sending = true;
    let sent = 30;
    const sender = (async () => {
      while (sending && sent < 130) {
        sent++;
        await send(sent % 2 ? a : b, alice, `r${sent}`, id);
      }
    })();
    const resumed = await subscribe(b, erin, { after: [{ conversationId: id, seq: 10 }] });
    await new Promise((r) => setTimeout(r, 400));
    sending = false;
    await sender;
    const total = sent;
    const events = await resumed.waitFor(total - 10, 20_000);
    expect(events.map((e) => e.messageAdded.seq)).toEqual(Array.from({ length: total - 10 }, (_, i) => i + 11));
    expect(new Set(events.map((e) => e.messageAdded.id)).size).toBe(total - 10);
    // And nothing beyond: the next message is the next event.
    await send(a, alice, 'last', id);
    expect((await resumed.waitFor(total - 9)).at(-1)!.messageAdded.seq).toBe(total + 1);
  }, 30_000);

  it('reads nothing per subscriber on an instance: the sender travels in the event', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => registerUser(a, `m${i}`)));
    const id = (await ok(a, StartConversationDocument, { participantIds: members.map((m) => m.id) }, alice.token)).startConversation.id;
    const queriesOnB = async () => (await b.metrics.dbQueries.get()).values[0].value;
    const deliveryCost = async (subs: Array<Subscription<MessageAddedSubscription>>, body: string) => {
      const before = await queriesOnB();
      const counts = subs.map((sub) => sub.events.length + 1);
      await send(a, alice, body, id);
      for (const [i, sub] of subs.entries()) expect(bodies(await sub.waitFor(counts[i])).at(-1)).toBe(body);
      return (await queriesOnB()) - before;
    };
    const one = [await subscribe(b, members[0], { conversationId: id })];
    const costForOne = await deliveryCost(one, 'to one');
    const six = [...one];
    for (const m of members.slice(1)) six.push(await subscribe(b, m, { conversationId: id }));
    const costForSix = await deliveryCost(six, 'to six');
    expect(costForOne).toBe(0); // the sender's fields are in the payload
    expect(costForSix).toBe(costForOne);
  });

  it('gives each subscriber its own viewer-dependent fields, while one document is shared', async () => {
    const [x, y] = [await registerUser(a, 'x'), await registerUser(a, 'y')];
    const id = (await ok(a, StartConversationDocument, { participantIds: [x.id, y.id] }, alice.token)).startConversation.id;
    await send(a, alice, 'one', id);
    await send(a, alice, 'two', id);
    await ok(a, MarkConversationReadDocument, { conversationId: id, seq: 2 }, x.token);
    const subscribeReadState = async (user: TestUser) => {
      const client = wsClient(b, { authToken: user.token });
      clients.push(client);
      const before = await liveStreams(b);
      const sub = new Subscription<MessageAddedWithReadStateSubscription>(client, MessageAddedWithReadStateDocument, { conversationId: id });
      while ((await liveStreams(b)) <= before) await new Promise((r) => setTimeout(r, 10));
      return sub;
    };
    const [forX, forY] = [await subscribeReadState(x), await subscribeReadState(y)];
    const plainX = await subscribe(b, x, { conversationId: id });
    const plainY = await subscribe(b, y, { conversationId: id });
    await send(a, alice, 'three', id);
    expect((await forX.waitFor(1))[0].messageAdded).toEqual({ seq: 3, conversation: { id, lastReadSeq: 2, unreadCount: 1 } });
    expect((await forY.waitFor(1))[0].messageAdded).toEqual({ seq: 3, conversation: { id, lastReadSeq: 0, unreadCount: 3 } });
    expect((await plainX.waitFor(1))[0]).toEqual((await plainY.waitFor(1))[0]);
  });

  it('answers an invalid document over the socket with GRAPHQL_VALIDATION_FAILED, every time', async () => {
    const client = wsClient(a, { authToken: alice.token });
    clients.push(client);
    for (let i = 0; i < 2; i++) {
      const sub = new Subscription(client, parse('subscription { messageAdded { nope } }') as TypedDocumentNode<unknown, object>, {});
      expect(await sub.failure()).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
    const parseError = new Subscription(client, { kind: 'Document', definitions: [] } as unknown as TypedDocumentNode<unknown, object>, {});
    expect(await parseError.failure()).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('refuses malformed arguments', async () => {
    const bad = await subscribe(a, alice, { conversationId: 'x' });
    expect(await bad.failure()).toEqual(['BAD_USER_INPUT']);
    const neg = await subscribe(a, alice, { conversationId, after: [{ conversationId, seq: -1 }] });
    expect(await neg.failure()).toEqual(['BAD_USER_INPUT']);
    const http401 = await http(a, SendMessageDocument, { input: { conversationId, body: 'x' } }, 'bad');
    expect(http401.status).toBe(401);
  });
});
