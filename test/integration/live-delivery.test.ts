import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import {
  MarkConversationReadDocument,
  MessageAddedDocument,
  MessageAddedWithReadStateDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
  type MessageAddedSubscriptionVariables,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { http, ok, Subscription, wsClient } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

// No background statements on the instances (notifications worker, tail and session checks): a
// test below counts the statements a delivery costs.
const setup = useTwoInstances({ NOTIFY_WORKER: 'false', MESSAGE_TAIL_CHECK_MS: '0', SESSION_CACHE_MS: '60000' });
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
let conversationId: string;

beforeAll(async () => {
  ({ a, b } = setup);
  [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((prefix) => buildUser(a, { prefix })));
  conversationId = (await buildConversation(a, alice, bob)).id;
});

/** `user`'s messageAdded subscription on `server`, live on the server. */
const subscribe = async (server: ParleyServer, user: TestUser, variables: MessageAddedSubscriptionVariables = {}) =>
  keep(await subscribeLive(server, user, 'messageAdded', MessageAddedDocument, variables));

const send = (server: ParleyServer, user: TestUser, body: string, id = conversationId, clientMessageId?: string) =>
  ok(server, SendMessageDocument, { input: { conversationId: id, body, clientMessageId } }, user.token).then(
    (d) => d.sendMessage,
  );

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
    const own = (await buildConversation(a, mallory, alice)).id;
    await send(a, alice, 'not for mallory');
    await send(b, alice, 'for mallory', own);
    const events = await all.waitFor(1);
    expect(bodies(events)).toEqual(['for mallory']);
  });

  it('follows conversations created after subscribing, from their first message', async () => {
    const carol = await buildUser(a, { prefix: 'carol' });
    const sub = await subscribe(b, carol, {});
    await ok(a, SendMessageDocument, { input: { participantIds: [carol.id, bob.id], body: 'welcome' } }, alice.token);
    const [event] = await sub.waitFor(1);
    expect(event.messageAdded).toMatchObject({ body: 'welcome', seq: 1 });
  });

  it('keeps seq order within a conversation while both instances send concurrently', async () => {
    const dave = await buildUser(a, { prefix: 'dave' });
    const id = (await buildConversation(a, dave, [bob, alice])).id;
    const onA = await subscribe(a, dave, { conversationId: id });
    const onB = await subscribe(b, dave, {});
    await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? a : b, i % 3 ? alice : bob, `c${i}`, id)));
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    expect((await onA.waitFor(40)).map((e) => e.messageAdded.seq)).toEqual(expected);
    expect((await onB.waitFor(40)).map((e) => e.messageAdded.seq)).toEqual(expected);
  });

  it('replays after a position then continues live, exactly once and in order, while another client keeps sending', async () => {
    const erin = await buildUser(a, { prefix: 'erin' });
    const id = (await buildConversation(a, erin, alice)).id;
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
    // Let the sender go on until erin has had messages sent after her stream went live, and 10 more.
    const liveFrom = sent;
    await eventually(
      () => sent >= Math.min(liveFrom + 10, 130) && resumed.events.some((e) => e.messageAdded.seq > liveFrom),
      20_000,
    );
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
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => buildUser(a, { prefix: `m${i}` })));
    const id = (await buildConversation(a, alice, members)).id;
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
    const [x, y] = [await buildUser(a, { prefix: 'x' }), await buildUser(a, { prefix: 'y' })];
    const id = (await buildConversation(a, alice, [x, y])).id;
    await send(a, alice, 'one', id);
    await send(a, alice, 'two', id);
    await ok(a, MarkConversationReadDocument, { conversationId: id, seq: 2 }, x.token);
    const subscribeReadState = async (user: TestUser) =>
      keep(await subscribeLive(b, user, 'messageAdded', MessageAddedWithReadStateDocument, { conversationId: id }));
    const [forX, forY] = [await subscribeReadState(x), await subscribeReadState(y)];
    const plainX = await subscribe(b, x, { conversationId: id });
    const plainY = await subscribe(b, y, { conversationId: id });
    await send(a, alice, 'three', id);
    expect((await forX.waitFor(1))[0].messageAdded).toEqual({
      seq: 3,
      conversation: { id, lastReadSeq: 2, unreadCount: 1 },
    });
    expect((await forY.waitFor(1))[0].messageAdded).toEqual({
      seq: 3,
      conversation: { id, lastReadSeq: 0, unreadCount: 3 },
    });
    expect((await plainX.waitFor(1))[0]).toEqual((await plainY.waitFor(1))[0]);
  });

  it('answers an invalid document over the socket with GRAPHQL_VALIDATION_FAILED, every time', async () => {
    const client = keep(wsClient(a, { authToken: alice.token }));
    for (let i = 0; i < 2; i++) {
      const sub = new Subscription(client, parse('subscription { messageAdded { nope } }'), {});
      expect(await sub.failure()).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
    const parseError = new Subscription(
      client,
      { kind: 'Document', definitions: [] } as unknown as TypedDocumentNode<unknown, object>,
      {},
    );
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
