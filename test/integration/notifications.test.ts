import type { ParleyServer } from '../../src/app/server';
import {
  BlockUserDocument,
  MarkNotificationsReadDocument,
  MuteConversationDocument,
  NotificationAddedDocument,
  NotificationPreferencesDocument,
  NotificationsDocument,
  SendMessageDocument,
  SetActiveConversationDocument,
  SetPresenceStatusDocument,
  StartConversationDocument,
  UpdateNotificationPreferencesDocument,
  WebPushPublicKeyDocument,
  type NotifyWhen,
} from '../../src/client/generated';
import { codes, connected, http, ok, wsOk } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

const setup = useTwoInstances({ NOTIFY_COALESCE_MS: '200' });
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

const send = (server: ParleyServer, user: TestUser, conversationId: string, body = 'hi') =>
  ok(server, SendMessageDocument, { input: { conversationId, body } }, user.token).then((d) => d.sendMessage);
const list = (
  server: ParleyServer,
  user: TestUser,
  vars: { first?: number; after?: string; unreadOnly?: boolean } = {},
) => ok(server, NotificationsDocument, vars, user.token).then((d) => d.notifications);
/** The ids of the messages `user` was notified of, newest first. */
const notifiedOf = async (server: ParleyServer, user: TestUser) =>
  (await list(server, user, { first: 100 })).edges
    .filter((e) => e.node.kind === 'NEW_MESSAGE')
    .map((e) => e.node.message!.id);
const prefer = (user: TestUser, notifyWhen: NotifyWhen) =>
  ok(b, UpdateNotificationPreferencesDocument, { input: { notifyWhen } }, user.token);
const users = (...prefixes: string[]) => Promise.all(prefixes.map((prefix) => buildUser(a, { prefix })));

describe('who is notified of a message', () => {
  it('follows preference, mute, blocks and presence from the shared store, and never the sender', async () => {
    const [alice, offline, away, viewing, elsewhere, muted, never, always, blocker] = await users(
      'alice',
      'offline',
      'away',
      'viewing',
      'elsewhere',
      'muted',
      'never',
      'always',
      'blocker',
    );
    const group = [offline, away, viewing, elsewhere, muted, never, always, blocker];
    const conversationId = (await buildConversation(a, alice, group)).id;
    const other = (await buildConversation(a, elsewhere, alice)).id;

    // Presence lives on instance B; alice sends on A.
    await ok(b, SetPresenceStatusDocument, { status: 'AWAY' }, (await keepSocket(b, away), away).token);
    for (const [user, active] of [
      [viewing, conversationId],
      [elsewhere, other],
      [always, conversationId],
    ] as const) {
      const socket = await keepSocket(b, user);
      await wsOk(socket, SetActiveConversationDocument, { conversationId: active });
    }
    await ok(b, MuteConversationDocument, { conversationId, muted: true }, muted.token);
    await prefer(never, 'NEVER');
    await prefer(always, 'ALWAYS');
    await ok(a, BlockUserDocument, { userId: alice.id }, blocker.token);

    const sent = await send(a, alice, conversationId);
    // All recipients of a message are stored by one statement: once one has it, all have.
    await eventually(async () => (await notifiedOf(a, offline)).includes(sent.id), 10_000, 'offline notified');
    const notified = await Promise.all([alice, ...group].map((u) => notifiedOf(b, u)));
    expect(notified.map((ids) => ids.includes(sent.id))).toEqual([
      false, // the sender
      true, // OFFLINE
      true, // AWAY
      false, // online, viewing this conversation
      true, // online, viewing another
      false, // muted
      false, // NEVER
      true, // ALWAYS, even while viewing it
      false, // blocks the sender (OFFLINE otherwise)
    ]);
  });

  it('notifies of a new conversation those it was created for, by the same preferences', async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    await prefer(carol, 'NEVER');
    const created = await ok(a, StartConversationDocument, { participantIds: [bob.id, carol.id] }, alice.token);
    const conversationId = created.startConversation.id;
    const added = async (u: TestUser) =>
      (await list(b, u)).edges.filter((e) => e.node.kind === 'ADDED_TO_CONVERSATION').map((e) => e.node);
    const { value } = await eventually(async () => {
      const mine = await added(bob);
      return mine.length ? mine : null;
    });
    expect(value).toEqual([expect.objectContaining({ conversationId, message: null, readAt: null })]);
    expect(await added(carol)).toEqual([]);
    expect(await added(alice)).toEqual([]);

    // Getting it again notifies nobody; a message through participantIds creating one does.
    await ok(b, StartConversationDocument, { participantIds: [alice.id, carol.id] }, bob.token);
    const [dave] = await users('dave');
    const first = await ok(a, SendMessageDocument, { input: { participantIds: [dave.id], body: 'hello' } }, bob.token);
    await eventually(async () => (await notifiedOf(a, dave)).includes(first.sendMessage.id));
    expect((await list(a, dave)).edges.map((e) => e.node.kind).sort()).toEqual([
      'ADDED_TO_CONVERSATION',
      'NEW_MESSAGE',
    ]);
    expect((await added(bob)).length).toBe(1);
  });
});

describe('notifications of a recipient', () => {
  it('reach notificationAdded on the other instance and agree with the list', async () => {
    const [alice, bob] = await users('alice', 'bob');
    const conversationId = (await buildConversation(a, alice, bob)).id;
    const live = keep(await subscribeLive(b, bob, 'notificationAdded', NotificationAddedDocument, {}));
    const sent = await send(a, alice, conversationId, 'ping');
    const event = await live.waitForMatch((e) => e.notificationAdded.kind === 'NEW_MESSAGE');
    expect(event.notificationAdded).toMatchObject({
      kind: 'NEW_MESSAGE',
      conversationId,
      readAt: null,
      message: { id: sent.id, body: 'ping', sender: { id: alice.id } },
    });
    const page = await list(a, bob);
    expect(page.edges[0].node).toEqual(event.notificationAdded);
    expect(page.unreadCount).toBe(page.edges.filter((e) => e.node.readAt === null).length);
  });

  it('lists newest first with cursors, and marks read by ids, all, or not at all for another user', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const conversationId = (await buildConversation(a, alice, bob)).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send(a, alice, conversationId, `m${i}`)).id);
    await eventually(async () => (await notifiedOf(a, bob)).length === 5);
    expect(await notifiedOf(b, bob)).toEqual([...ids].reverse());

    const first = await list(a, bob, { first: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await list(a, bob, { first: 100, after: first.pageInfo.endCursor! });
    const all = [...first.edges, ...rest.edges].map((e) => e.node);
    expect(all.length).toBe(6); // five messages and the new conversation
    expect(first.unreadCount).toBe(6);

    const mark = (user: TestUser, list: string[] | null) =>
      ok(b, MarkNotificationsReadDocument, { ids: list }, user.token).then((d) => d.markNotificationsRead);
    const [n0, n1] = all;
    expect(await mark(mallory, [n0.id, n1.id])).toBe(0);
    expect(await mark(bob, [n0.id, n1.id, n0.id, 'not-an-id', '00000000-0000-4000-8000-000000000000'])).toBe(2);
    expect(await mark(bob, [n0.id])).toBe(0);
    const unread = await list(a, bob, { unreadOnly: true });
    expect(unread.unreadCount).toBe(4);
    expect(unread.edges.map((e) => e.node.id)).toEqual(all.slice(2).map((n) => n.id));
    expect(await mark(bob, null)).toBe(4);
    expect((await list(a, bob)).unreadCount).toBe(0);
    expect(await mark(bob, null)).toBe(0);
  });

  it('keeps preferences and mutes, refusing conversations of others', async () => {
    const [alice, bob, mallory] = await users('alice', 'bob', 'mallory');
    const conversationId = (await buildConversation(a, alice, bob)).id;
    expect((await ok(a, NotificationPreferencesDocument, {}, bob.token)).notificationPreferences).toEqual({
      notifyWhen: 'WHEN_AWAY',
      mutedConversationIds: [],
    });
    await prefer(bob, 'ALWAYS');
    const muted = await ok(a, MuteConversationDocument, { conversationId, muted: true }, bob.token);
    expect(muted.muteConversation).toEqual({ notifyWhen: 'ALWAYS', mutedConversationIds: [conversationId] });
    const again = await ok(b, MuteConversationDocument, { conversationId, muted: false }, bob.token);
    expect(again.muteConversation.mutedConversationIds).toEqual([]);

    const refuse = (vars: { conversationId: string; muted: boolean }) =>
      http(a, MuteConversationDocument, vars, mallory.token).then(codes);
    expect(await refuse({ conversationId, muted: true })).toEqual(['FORBIDDEN']);
    expect(await refuse({ conversationId: '00000000-0000-4000-8000-000000000000', muted: true })).toEqual([
      'NOT_FOUND',
    ]);
    expect(await refuse({ conversationId: 'nope', muted: true })).toEqual(['BAD_USER_INPUT']);
    expect(codes(await http(a, NotificationsDocument, { first: 0 }, bob.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await http(a, NotificationsDocument, {}, undefined))).toEqual(['UNAUTHENTICATED']);
  });

  it("go with an operator's deletes of their message, their recipient or their conversation", async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const conversationId = (await buildConversation(a, alice, [bob, carol])).id;
    const [kept, gone] = [await send(a, alice, conversationId, 'kept'), await send(a, alice, conversationId, 'gone')];
    await eventually(async () => (await notifiedOf(a, carol)).length === 2 && (await notifiedOf(a, bob)).length === 2);
    const stored = (where: string, params: unknown[]) =>
      setup.cluster.db.query<{ n: string }>(`SELECT count(*) AS n FROM notifications WHERE ${where}`, params);

    await setup.cluster.db.query('DELETE FROM messages WHERE id = $1', [gone.id]);
    expect(await notifiedOf(a, bob)).toEqual([kept.id]);
    expect(await notifiedOf(a, carol)).toEqual([kept.id]);
    await setup.cluster.db.query('DELETE FROM users WHERE id = $1', [carol.id]);
    expect((await stored('recipient_id = $1', [carol.id]))[0].n).toBe('0');
    expect(await notifiedOf(a, bob)).toEqual([kept.id]);
    await setup.cluster.db.query('DELETE FROM conversations WHERE id = $1', [conversationId]);
    expect((await stored('conversation_id = $1', [conversationId]))[0].n).toBe('0');
  });

  it('answers webPushPublicKey without a token (null when Web Push is off)', async () => {
    expect((await ok(a, WebPushPublicKeyDocument, {}, undefined)).webPushPublicKey).toBeNull();
  });
});

async function keepSocket(server: ParleyServer, user: TestUser) {
  return keep(await connected(server, user));
}
