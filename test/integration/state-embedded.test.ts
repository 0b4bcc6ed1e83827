import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConversationReadStateDocument,
  MarkConversationReadDocument,
  PresenceChangedDocument,
  PresenceDocument,
  ReadReceiptDocument,
  SendMessageDocument,
  SetTypingDocument,
  StartConversationDocument,
  TypingDocument,
  type PresenceChangedSubscription,
  type ReadReceiptSubscription,
  type TypingSubscription,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { ok, registerUser, settle, type TestUser } from '../support/clients';
import { connected, eventually, freePort, startChild, subscribeLive, type ChildInstance } from '../support/state';

// The embedded default: no DATABASE_URL, no REDIS_URL; PGlite, in-process pub/sub and stores. It
// runs in a child process: PGlite's dynamic imports do not load inside jest's module sandbox.
let dataDir: string;
let child: ChildInstance;
let server: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let conversationId: string;
const disposables: Array<{ dispose: () => unknown }> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-state-'));
  const env = { HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  child = await startChild({ ...env, PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_TTL_MS: '3000' });
  // The helpers take an instance by its URLs (metrics are read from GET /metrics).
  server = child as unknown as ParleyServer;
  [alice, bob] = [await registerUser(server, 'alice'), await registerUser(server, 'bob')];
  conversationId = (await ok(server, StartConversationDocument, { participantIds: [bob.id] }, alice.token)).startConversation.id;
}, 60_000);
afterEach(async () => {
  await Promise.all(disposables.splice(0).map((d) => d.dispose()));
});
afterAll(async () => {
  child.process.kill('SIGTERM');
  await new Promise((resolve) => child.process.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
});

const socket = async (user: TestUser) => {
  const client = await connected(server, user);
  disposables.push(client);
  return client;
};
const presenceOf = async (userId: string) => (await ok(server, PresenceDocument, { userIds: [userId] }, bob.token)).presence[0];

describe('the embedded default', () => {
  it('tracks presence over several sockets and goes OFFLINE after the last', async () => {
    const watch = await subscribeLive<PresenceChangedSubscription>(server, await socket(bob), 'presence', PresenceChangedDocument, {});
    const [tab1, tab2] = [await socket(alice), await socket(alice)];
    expect(await presenceOf(alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 2 });
    await tab1.dispose();
    await eventually(async () => (await presenceOf(alice.id)).connectionCount === 1);
    await tab2.dispose();
    const events = await watch.waitFor(2);
    expect(events.map((e) => e.presenceChanged.status)).toEqual(['ONLINE', 'OFFLINE']);
    expect(await presenceOf(alice.id)).toMatchObject({ status: 'OFFLINE', connectionCount: 0, lastSeenAt: events[1].presenceChanged.lastSeenAt });
    // Heartbeats keep a connected user ONLINE past the TTL.
    await socket(alice);
    await settle(3500);
    expect(await presenceOf(alice.id)).toMatchObject({ status: 'ONLINE', connectionCount: 1 });
  });

  it('delivers typing to the other participant, not the typer', async () => {
    const bobSees = await subscribeLive<TypingSubscription>(server, await socket(bob), 'typing', TypingDocument, { conversationId });
    const aliceSees = await subscribeLive<TypingSubscription>(server, await socket(alice), 'typing', TypingDocument, { conversationId });
    await ok(server, SetTypingDocument, { conversationId, isTyping: true }, alice.token);
    await ok(server, SetTypingDocument, { conversationId, isTyping: false }, alice.token);
    const events = await bobSees.waitFor(2);
    expect(events.map((e) => [e.typing.userId, e.typing.isTyping])).toEqual([
      [alice.id, true],
      [alice.id, false],
    ]);
    expect(aliceSees.events).toEqual([]);
  });

  it('keeps read positions, unread counts and receipts', async () => {
    const receipts = await subscribeLive<ReadReceiptSubscription>(server, await socket(alice), 'readReceipt', ReadReceiptDocument, {});
    for (const body of ['one', 'two', 'three']) await ok(server, SendMessageDocument, { input: { conversationId, body } }, alice.token);
    const state = async () => (await ok(server, ConversationReadStateDocument, { id: conversationId }, bob.token)).conversation!;
    expect(await state()).toMatchObject({ lastReadSeq: 0, unreadCount: 3 });
    await ok(server, MarkConversationReadDocument, { conversationId, seq: 2 }, bob.token);
    const back = await ok(server, MarkConversationReadDocument, { conversationId, seq: 1 }, bob.token);
    expect(back.markConversationRead.lastReadSeq).toBe(2);
    expect(await state()).toMatchObject({ lastReadSeq: 2, unreadCount: 1 });
    const [event] = await receipts.waitFor(1);
    expect(event.readReceipt).toMatchObject({ userId: bob.id, lastReadSeq: 2 });
  });
});
