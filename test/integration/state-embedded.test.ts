import {
  ConversationReadStateDocument,
  MarkConversationReadDocument,
  PresenceChangedDocument,
  PresenceDocument,
  ReadReceiptDocument,
  SendMessageDocument,
  SetTypingDocument,
  TypingDocument,
} from '../../src/client/generated';
import { connected, ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useInstances, type ChildInstance } from '../support/server';
import { elapse, eventually } from '../support/wait';

// The embedded default: no DATABASE_URL, no REDIS_URL; PGlite, in-process pub/sub and stores. It
// runs in a child process: PGlite's dynamic imports do not load inside jest's module sandbox. The
// helpers take the instance by its URLs (metrics are read from GET /metrics).
const setup = useInstances(1, { PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_TTL_MS: '3000' }, { embedded: true });
const { keep } = setup;
let server: ChildInstance;
let alice: TestUser;
let bob: TestUser;
let conversationId: string;

beforeAll(async () => {
  server = setup.a;
  [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
  conversationId = (await buildConversation(server, alice, bob)).id;
});

const socket = async (user: TestUser) => keep(await connected(server, user));
const presenceOf = async (userId: string) =>
  (await ok(server, PresenceDocument, { userIds: [userId] }, bob.token)).presence[0];

describe('the embedded default', () => {
  it('tracks presence over several sockets and goes OFFLINE after the last', async () => {
    const watch = keep(await subscribeLive(server, bob, 'presenceChanged', PresenceChangedDocument, {}));
    const [tab1, tab2] = [await socket(alice), await socket(alice)];
    expect(await presenceOf(alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 2 });
    await tab1.dispose();
    await eventually(async () => (await presenceOf(alice.id)).connectionCount === 1);
    await tab2.dispose();
    const events = await watch.waitFor(2);
    expect(events.map((e) => e.presenceChanged.status)).toEqual(['ONLINE', 'OFFLINE']);
    expect(await presenceOf(alice.id)).toMatchObject({
      status: 'OFFLINE',
      connectionCount: 0,
      lastSeenAt: events[1].presenceChanged.lastSeenAt,
    });
    // Heartbeats keep a connected user ONLINE past the TTL. The passing of time is the subject:
    // nothing announces that an entry was not swept.
    await socket(alice);
    await elapse(3500);
    expect(await presenceOf(alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 1 });
  });

  it('delivers typing to the other participant, not the typer', async () => {
    const bobSees = keep(await subscribeLive(server, bob, 'typing', TypingDocument, { conversationId }));
    const aliceSees = keep(await subscribeLive(server, alice, 'typing', TypingDocument, { conversationId }));
    await ok(server, SetTypingDocument, { conversationId, isTyping: true }, alice.token);
    await ok(server, SetTypingDocument, { conversationId, isTyping: false }, alice.token);
    const events = await bobSees.waitFor(2);
    expect(events.map((e) => [e.typing.userId, e.typing.isTyping])).toEqual([
      [alice.id, true],
      [alice.id, false],
    ]);
    expect(aliceSees.events).toEqual([]);
    // alice's own changes were published before bob's start: they would come before it.
    await ok(server, SetTypingDocument, { conversationId, isTyping: true }, bob.token);
    await aliceSees.waitFor(1);
    expect(aliceSees.events.map((e) => [e.typing.userId, e.typing.isTyping])).toEqual([[bob.id, true]]);
  });

  it('keeps read positions, unread counts and receipts', async () => {
    const receipts = keep(await subscribeLive(server, alice, 'readReceipt', ReadReceiptDocument, {}));
    for (const body of ['one', 'two', 'three'])
      await ok(server, SendMessageDocument, { input: { conversationId, body } }, alice.token);
    const state = async () =>
      (await ok(server, ConversationReadStateDocument, { id: conversationId }, bob.token)).conversation!;
    expect(await state()).toMatchObject({ lastReadSeq: 0, unreadCount: 3 });
    await ok(server, MarkConversationReadDocument, { conversationId, seq: 2 }, bob.token);
    const back = await ok(server, MarkConversationReadDocument, { conversationId, seq: 1 }, bob.token);
    expect(back.markConversationRead.lastReadSeq).toBe(2);
    expect(await state()).toMatchObject({ lastReadSeq: 2, unreadCount: 1 });
    const [event] = await receipts.waitFor(1);
    expect(event.readReceipt).toMatchObject({ userId: bob.id, lastReadSeq: 2 });
  });
});
