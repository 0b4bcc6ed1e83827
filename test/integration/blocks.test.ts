import type { ParleyServer } from '../../src/app/server';
import {
  BlockedUsersDocument,
  BlockUserDocument,
  SendMessageDocument,
  SetTypingDocument,
  StartConversationDocument,
  TypingDocument,
  UnblockUserDocument,
} from '../../src/client/generated';
import { BlocksService } from '../../src/modules/safety/blocks.service';
import { codes, http, ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

const setup = useTwoInstances();
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

const block = (user: TestUser, other: { id: string }, server = a) =>
  http(server, BlockUserDocument, { userId: other.id }, user.token);
const send = (user: TestUser, conversationId: string, body: string, server = a) =>
  http(server, SendMessageDocument, { input: { conversationId, body } }, user.token);

async function people() {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((prefix) => buildUser(a, { prefix })));
  return { alice, bob, carol };
}

describe('blocking', () => {
  it('blocks idempotently, lists and unblocks; refuses yourself and unknown users', async () => {
    const { alice, bob, carol } = await people();
    expect((await block(alice, bob)).data).toEqual({ blockUser: true });
    expect((await block(alice, bob, b)).data).toEqual({ blockUser: true });
    expect((await block(alice, carol)).data).toEqual({ blockUser: true });
    const listed = (await ok(a, BlockedUsersDocument, {}, alice.token)).blockedUsers.map((u) => u.id);
    expect(listed.sort()).toEqual([bob.id, carol.id].sort());

    const self = await block(alice, alice);
    expect(codes(self)).toEqual(['BAD_USER_INPUT']);
    expect(self.errors![0].extensions!.field).toBe('userId');
    expect(codes(await block(alice, { id: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
    expect(codes(await block(alice, { id: 'not-a-uuid' }))).toEqual(['BAD_USER_INPUT']);

    expect((await ok(a, UnblockUserDocument, { userId: carol.id }, alice.token)).unblockUser).toBe(true);
    expect((await ok(a, UnblockUserDocument, { userId: carol.id }, alice.token)).unblockUser).toBe(true);
    expect((await ok(a, BlockedUsersDocument, {}, alice.token)).blockedUsers.map((u) => u.id)).toEqual([bob.id]);
    expect(codes(await http(a, BlockedUsersDocument, {}, null))).toEqual(['UNAUTHENTICATED']);
  });

  it('keeps a blocked user from starting or sending to a direct conversation; groups and the blocker go on', async () => {
    const { alice, bob, carol } = await people();
    const direct = (await buildConversation(a, alice, bob)).id;
    const group = (await buildConversation(a, alice, [bob, carol])).id;
    await ok(a, BlockUserDocument, { userId: bob.id }, alice.token);

    const refused = await send(bob, direct, 'hello?', b);
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    // The same answer whoever blocks whom: it does not say that alice blocked bob.
    expect(refused.errors![0].message).toBe('you cannot message this user');
    expect(refused.errors![0].extensions!.reason).toBe('CANNOT_MESSAGE_USER');
    const started = await http(b, StartConversationDocument, { participantIds: [alice.id] }, bob.token);
    expect(codes(started)).toEqual(['FORBIDDEN']);
    const byParticipants = await http(
      a,
      SendMessageDocument,
      { input: { participantIds: [alice.id], body: 'hi' } },
      bob.token,
    );
    expect(codes(byParticipants)).toEqual(['FORBIDDEN']);

    expect((await send(bob, group, 'in the group')).errors).toBeUndefined();
    expect((await send(alice, direct, 'the blocker may still write')).errors).toBeUndefined();

    await ok(a, UnblockUserDocument, { userId: bob.id }, alice.token);
    expect((await send(bob, direct, 'hello again', b)).errors).toBeUndefined();
  });

  it("stops the blocked user's typing from reaching the blocker, at once and on another instance", async () => {
    const { alice, bob, carol } = await people();
    const group = (await buildConversation(a, alice, [bob, carol])).id;
    const aliceSees = keep(await subscribeLive(b, alice, 'typing', TypingDocument, { conversationId: group }));
    const carolSees = keep(await subscribeLive(b, carol, 'typing', TypingDocument, { conversationId: group }));
    const typing = (user: TestUser, isTyping: boolean) =>
      ok(a, SetTypingDocument, { conversationId: group, isTyping }, user.token);

    await ok(a, BlockUserDocument, { userId: bob.id }, alice.token);
    await typing(bob, true);
    await typing(carol, true);
    // carol's event reaches alice after bob's would have (one publisher, one topic, in order).
    await aliceSees.waitForMatch((e) => e.typing.userId === carol.id);
    await carolSees.waitForMatch((e) => e.typing.userId === bob.id);
    expect(aliceSees.events.map((e) => e.typing.userId)).not.toContain(bob.id);

    await ok(a, UnblockUserDocument, { userId: bob.id }, alice.token);
    await eventually(
      async () => {
        await typing(bob, true);
        return aliceSees.events.some((e) => e.typing.userId === bob.id);
      },
      5_000,
      "bob's typing reaches alice after the unblock",
    );
  });

  it('tells which users block a sender (blockersAmong, for notifications)', async () => {
    const { alice, bob, carol } = await people();
    await ok(a, BlockUserDocument, { userId: carol.id }, alice.token);
    // The service the notifications module uses, on this instance's database (no events needed).
    const blocks = new BlocksService(a.database.db, null as never, a.log);
    expect(await blocks.blockersAmong([alice.id, bob.id], carol.id)).toEqual(new Set([alice.id]));
    expect(await blocks.blockersAmong([], carol.id)).toEqual(new Set());
  });
});
