import {
  ConversationReadStateDocument,
  ConversationsReadStateDocument,
  MarkConversationReadDocument,
  ReadReceiptDocument,
  SendMessageDocument,
  type ReadReceiptSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, connected, http, ok, Subscription } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

// No background statements (notifications worker, tail and session checks): a test counts statements.
const setup = useTwoInstances({ NOTIFY_WORKER: 'false', MESSAGE_TAIL_CHECK_MS: '0', SESSION_CACHE_MS: '60000' });
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

/** alice, bob and carol in a fresh group conversation. */
async function trio() {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((prefix) => buildUser(a, { prefix })));
  const conversationId = (await buildConversation(a, alice, [bob, carol])).id;
  return { alice, bob, carol, conversationId };
}

const send = (server: ParleyServer, user: TestUser, conversationId: string, body = 'hi') =>
  ok(server, SendMessageDocument, { input: { conversationId, body } }, user.token).then((d) => d.sendMessage);
const markRead = (server: ParleyServer, user: TestUser, conversationId: string, seq: number) =>
  ok(server, MarkConversationReadDocument, { conversationId, seq }, user.token).then((d) => d.markConversationRead);
const stateOf = async (server: ParleyServer, user: TestUser, id: string) =>
  (await ok(server, ConversationReadStateDocument, { id }, user.token)).conversation!;

/** `user`'s readReceipt subscription (on a socket of its own), live on `server`. */
const watch = async (server: ParleyServer, user: TestUser, conversationId?: string) =>
  keep(await subscribeLive(server, user, 'readReceipt', ReadReceiptDocument, { conversationId }));
/** Each receipt as [userId, lastReadSeq]. */
const moves = (sub: Subscription<ReadReceiptSubscription>) =>
  sub.events.map((e) => [e.readReceipt.userId, e.readReceipt.lastReadSeq]);

describe('markConversationRead', () => {
  it('only moves forward, clamps to the newest message and returns the stored receipt', async () => {
    const { alice, bob, conversationId } = await trio();
    for (let i = 0; i < 5; i++) await send(a, alice, conversationId, `m${i}`);

    const third = await markRead(a, bob, conversationId, 3);
    expect(third).toMatchObject({ conversationId, userId: bob.id, lastReadSeq: 3 });
    const back = await markRead(b, bob, conversationId, 1);
    expect(back).toEqual(third);
    const same = await markRead(b, bob, conversationId, 3);
    expect(same).toEqual(third);
    const beyond = await markRead(a, bob, conversationId, 1000);
    expect(beyond.lastReadSeq).toBe(5);
    expect(Date.parse(beyond.readAt)).toBeGreaterThanOrEqual(Date.parse(third.readAt));
    expect((await stateOf(b, bob, conversationId)).lastReadSeq).toBe(5);
  });

  it('refuses a negative seq, and a conversation I am not in', async () => {
    const { alice, conversationId } = await trio();
    const mallory = await buildUser(a, { prefix: 'mallory' });
    expect(codes(await http(a, MarkConversationReadDocument, { conversationId, seq: -1 }, alice.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await http(a, MarkConversationReadDocument, { conversationId, seq: 0 }, mallory.token))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codes(await http(a, MarkConversationReadDocument, { conversationId: 'x', seq: 0 }, alice.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});

describe('unread counts', () => {
  it('count messages from others after my position; my own send moves my position', async () => {
    const { alice, bob, carol, conversationId } = await trio();
    expect(await stateOf(a, bob, conversationId)).toMatchObject({ lastReadSeq: 0, unreadCount: 0 });

    await send(a, alice, conversationId);
    await send(b, carol, conversationId);
    await send(a, alice, conversationId);
    expect(await stateOf(b, bob, conversationId)).toMatchObject({ lastReadSeq: 0, unreadCount: 3 });
    // alice's own position is at her last message: only carol's message before it was unread, and is read now.
    expect(await stateOf(a, alice, conversationId)).toMatchObject({ lastReadSeq: 3, unreadCount: 0 });
    expect(await stateOf(a, carol, conversationId)).toMatchObject({ lastReadSeq: 2, unreadCount: 1 });

    await markRead(b, bob, conversationId, 2);
    expect(await stateOf(a, bob, conversationId)).toMatchObject({ lastReadSeq: 2, unreadCount: 1 });
    await send(a, bob, conversationId, 'my reply');
    expect(await stateOf(b, bob, conversationId)).toMatchObject({ lastReadSeq: 4, unreadCount: 0 });
    expect(await stateOf(b, carol, conversationId)).toMatchObject({ lastReadSeq: 2, unreadCount: 2 });

    const { readReceipts } = await stateOf(a, carol, conversationId);
    expect(readReceipts.map((r) => [r.userId, r.lastReadSeq])).toEqual(
      [
        [alice.id, 3],
        [bob.id, 4],
        [carol.id, 2],
      ].sort(([x], [y]) => String(x).localeCompare(String(y))),
    );
  });

  it('lists every participant, at 0 before they read anything', async () => {
    const { alice, bob, carol, conversationId } = await trio();
    const { readReceipts } = await stateOf(a, bob, conversationId);
    expect(readReceipts).toHaveLength(3);
    expect(new Set(readReceipts.map((r) => r.userId))).toEqual(new Set([alice.id, bob.id, carol.id]));
    expect(readReceipts.every((r) => r.lastReadSeq === 0 && !Number.isNaN(Date.parse(r.readAt)))).toBe(true);
  });

  it('are batched across a page: the SQL cost does not grow with the number of conversations', async () => {
    const viewer = await buildUser(a, { prefix: 'viewer' });
    const others = await Promise.all(Array.from({ length: 12 }, () => buildUser(a, { prefix: 'peer' })));
    const ids: string[] = [];
    for (const other of others) {
      const id = (await buildConversation(a, other, viewer)).id;
      ids.push(id);
      await send(a, other, id);
      await send(a, other, id);
    }
    await markRead(a, viewer, ids[0], 1);

    const cost = async (first: number) => {
      const before = (await a.metrics.dbQueries.get()).values[0].value;
      const { conversations } = await ok(a, ConversationsReadStateDocument, { first }, viewer.token);
      return {
        queries: (await a.metrics.dbQueries.get()).values[0].value - before,
        nodes: conversations.edges.map((e) => e.node),
      };
    };
    const small = await cost(2);
    const large = await cost(12);
    expect(large.nodes).toHaveLength(12);
    expect(large.queries).toBe(small.queries);
    const byId = new Map(large.nodes.map((n) => [n.id, n]));
    expect(byId.get(ids[0])).toMatchObject({ lastReadSeq: 1, unreadCount: 1 });
    for (const id of ids.slice(1)) expect(byId.get(id)).toMatchObject({ lastReadSeq: 0, unreadCount: 2 });
    expect(large.nodes.every((n) => n.readReceipts.length === 2)).toBe(true);
  });
});

describe('readReceipt subscription', () => {
  it("delivers others' moves across instances, not my own, including a sender's move on send", async () => {
    const { alice, bob, carol, conversationId } = await trio();
    const bobSees = await watch(b, bob);
    const carolSees = await watch(a, carol, conversationId);

    const m1 = await send(a, alice, conversationId);
    await markRead(b, bob, conversationId, 1);
    await markRead(a, carol, conversationId, 1);
    await markRead(a, carol, conversationId, 0); // backward: no event
    await send(b, bob, conversationId);

    const bobEvents = await bobSees.waitFor(2);
    const carolEvents = await carolSees.waitFor(3);
    expect(bobEvents.map((e) => [e.readReceipt.userId, e.readReceipt.lastReadSeq])).toEqual([
      [alice.id, m1.seq],
      [carol.id, 1],
    ]);
    // Nothing else for either: alice's next send is the next receipt both see.
    const m3 = await send(a, alice, conversationId);
    await Promise.all([bobSees.waitFor(3), carolSees.waitFor(4)]);
    expect(moves(bobSees)).toEqual([
      [alice.id, m1.seq],
      [carol.id, 1],
      [alice.id, m3.seq],
    ]);
    expect(bobSees.events).toHaveLength(3);
    expect(moves(carolSees)).toEqual([
      [alice.id, 1],
      [bob.id, 1],
      [bob.id, 2],
      [alice.id, m3.seq],
    ]);
    expect(carolEvents[0].readReceipt.readAt).toBe(m1.createdAt);
  });

  it('follows conversations created after subscribing, and is FORBIDDEN for one I am not in', async () => {
    const { alice, conversationId } = await trio();
    const dave = await buildUser(a, { prefix: 'dave' });
    const daveSees = await watch(a, dave);
    const denied = keep(new Subscription(keep(await connected(b, dave)), ReadReceiptDocument, { conversationId }));
    expect(await denied.failure()).toEqual(['FORBIDDEN']);

    // dave's stream follows the new conversation from when it has heard of it: until dave hears
    // of it, alice sends there (each send moves her position: a receipt).
    const fresh = (await buildConversation(b, alice, dave)).id;
    await send(a, alice, conversationId); // not dave's conversation
    const sent: Array<Awaited<ReturnType<typeof send>>> = [];
    await eventually(
      async () => daveSees.events.length > 0 || (sent.push(await send(b, alice, fresh)), daveSees.events.length > 0),
    );
    const [event] = await daveSees.waitFor(1);
    const derivedFrom = sent.find((m) => m.seq === event.readReceipt.lastReadSeq);
    expect(event.readReceipt).toEqual({
      conversationId: fresh,
      userId: alice.id,
      lastReadSeq: derivedFrom?.seq,
      readAt: derivedFrom?.createdAt,
    });
    // Nothing from the other conversation, and each of alice's moves once: her next send is the next receipt.
    const last = await send(b, alice, fresh);
    await daveSees.waitForMatch(
      (e) => e.readReceipt.conversationId === fresh && e.readReceipt.lastReadSeq === last.seq,
    );
    const seqs = daveSees.events.map((e) => e.readReceipt.lastReadSeq);
    expect(daveSees.events.every((e) => e.readReceipt.conversationId === fresh)).toBe(true);
    expect(seqs).toEqual(Array.from({ length: last.seq - seqs[0] + 1 }, (_, i) => seqs[0] + i));
  });
});
