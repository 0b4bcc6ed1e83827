import { randomUUID } from 'node:crypto';
import {
  ConversationDocument,
  ConversationsDocument,
  SendMessageDocument,
  StartConversationDocument,
  UserDocument,
  UsersDocument,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, http, ok } from '../support/clients';
import { buildConversation, buildUser, type TestConversation, type TestUser } from '../support/factories';
import { useInstances } from '../support/server';
import { eventually } from '../support/wait';

const setup = useInstances(1, { MAX_PARTICIPANTS: '4' });
let server: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

beforeAll(async () => {
  server = setup.a;
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((prefix) => buildUser(server, { prefix })));
});

const start = (user: TestUser, participantIds: string[], title?: string) =>
  http(server, StartConversationDocument, { participantIds, title }, user.token);

describe('startConversation', () => {
  it('is identified by its participant set, in any order, with duplicates ignored', async () => {
    const a = await start(alice, [bob.id, carol.id], 'Trio');
    const b = await start(carol, [alice.id, bob.id, bob.id]);
    const c = await start(bob, [carol.id, alice.id, bob.id]);
    const ids = [a, b, c].map((r) => r.data!.startConversation.id);
    expect(new Set(ids).size).toBe(1);
    const conversation = a.data!.startConversation;
    expect(conversation.isGroup).toBe(true);
    expect(conversation.title).toBe('Trio');
    expect(conversation.participants.map((p) => p.id)).toEqual([alice.id, bob.id, carol.id].sort());
  });

  it('adds the caller: a direct conversation is not a group', async () => {
    const { startConversation } = await ok(
      server,
      StartConversationDocument,
      { participantIds: [bob.id] },
      alice.token,
    );
    expect(startConversation.isGroup).toBe(false);
    expect(startConversation.participants.map((p) => p.id).sort()).toEqual([alice.id, bob.id].sort());
  });

  it('gives one conversation to concurrent creators of one set', async () => {
    const dave = await buildUser(server, { prefix: 'dave' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => start(i % 2 ? alice : dave, i % 2 ? [dave.id] : [alice.id])),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(new Set(results.map((r) => r.data!.startConversation.id)).size).toBe(1);
  });

  it.each([
    ['only the caller', () => [alice.id], 'BAD_USER_INPUT'],
    ['an empty set', () => [], 'BAD_USER_INPUT'],
    ['a malformed id', () => ['not-a-uuid'], 'BAD_USER_INPUT'],
    ['an unknown user', () => [randomUUID()], 'NOT_FOUND'],
    ['more than MAX_PARTICIPANTS', () => [bob.id, carol.id, randomUUID(), randomUUID()], 'BAD_USER_INPUT'],
  ])('refuses %s', async (_name, ids, code) => {
    const before = await ok(server, ConversationsDocument, { first: 100 }, alice.token);
    const result = await start(alice, ids());
    expect(codes(result)).toEqual([code]);
    const after = await ok(server, ConversationsDocument, { first: 100 }, alice.token);
    expect(after.conversations.edges.length).toBe(before.conversations.edges.length);
  });

  it('refuses a blank or too long title', async () => {
    expect(codes(await start(alice, [bob.id, carol.id], '  '))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await start(alice, [bob.id, carol.id], 't'.repeat(101)))).toEqual(['BAD_USER_INPUT']);
  });

  it('is UNAUTHENTICATED without a token', async () => {
    const result = await http(server, StartConversationDocument, { participantIds: [bob.id] });
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('conversation(id)', () => {
  it('is null for a non-participant and for an unknown id', async () => {
    const erin = await buildUser(server, { prefix: 'erin' });
    const direct = await buildConversation(server, alice, bob);
    expect((await ok(server, ConversationDocument, { id: direct.id }, erin.token)).conversation).toBeNull();
    expect((await ok(server, ConversationDocument, { id: randomUUID() }, alice.token)).conversation).toBeNull();
    expect((await ok(server, ConversationDocument, { id: direct.id }, bob.token)).conversation?.id).toBe(direct.id);
  });
});

describe('conversations', () => {
  it('lists mine by most recent activity, paginated with exact hasNextPage', async () => {
    const frank = await buildUser(server, { prefix: 'frank' });
    const partners = await Promise.all([1, 2, 3, 4].map(() => buildUser(server, { prefix: 'p' })));
    const convs: TestConversation[] = [];
    for (const p of partners) {
      // Distinct millisecond timestamps, so that the expected order is not a tie: the clock has
      // passed the previous conversation's.
      if (convs.length) await eventually(() => Date.now() > Date.parse(convs[convs.length - 1].createdAt));
      convs.push(await buildConversation(server, frank, p));
    }
    expect(new Set(convs.map((c) => c.createdAt)).size).toBe(4);
    // Activity: a message in the oldest one moves it to the top.
    await ok(server, SendMessageDocument, { input: { conversationId: convs[0].id, body: 'bump' } }, frank.token);
    const expected = [convs[0], convs[3], convs[2], convs[1]].map((c) => c.id);

    const page1 = await ok(server, ConversationsDocument, { first: 3 }, frank.token);
    expect(page1.conversations.edges.map((e) => e.node.id)).toEqual(expected.slice(0, 3));
    expect(page1.conversations.edges[0].node.lastMessage?.body).toBe('bump');
    expect(page1.conversations.pageInfo.hasNextPage).toBe(true);
    const page2 = await ok(
      server,
      ConversationsDocument,
      { first: 3, after: page1.conversations.pageInfo.endCursor },
      frank.token,
    );
    expect(page2.conversations.edges.map((e) => e.node.id)).toEqual(expected.slice(3));
    expect(page2.conversations.pageInfo.hasNextPage).toBe(false);

    const exact = await ok(server, ConversationsDocument, { first: 4 }, frank.token);
    expect(exact.conversations.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a bad cursor and first outside 1..100', async () => {
    expect(codes(await http(server, ConversationsDocument, { first: 0 }, alice.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await http(server, ConversationsDocument, { first: 101 }, alice.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await http(server, ConversationsDocument, { after: 'bogus' }, alice.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});

describe('users', () => {
  it('finds a user by id and lists users by username with prefix search', async () => {
    const tag = `zq${Date.now() % 100000}`;
    const made = [];
    for (const name of ['b', 'a', 'c']) made.push(await buildUser(server, { prefix: `${tag}${name}` }));
    const { users } = await ok(server, UsersDocument, { search: tag.toUpperCase(), first: 2 }, alice.token);
    expect(users.edges.map((e) => e.node.username)).toEqual([made[1], made[0]].map((u) => u.username));
    expect(users.pageInfo.hasNextPage).toBe(true);
    const rest = await ok(
      server,
      UsersDocument,
      { search: tag, first: 2, after: users.pageInfo.endCursor },
      alice.token,
    );
    expect(rest.users.edges.map((e) => e.node.username)).toEqual([made[2].username]);
    expect(rest.users.pageInfo.hasNextPage).toBe(false);
    expect((await ok(server, UserDocument, { id: made[0].id }, alice.token)).user?.username).toBe(made[0].username);
    expect((await ok(server, UserDocument, { id: randomUUID() }, alice.token)).user).toBeNull();
    // LIKE wildcards are searched literally.
    expect((await ok(server, UsersDocument, { search: '%' }, alice.token)).users.edges).toEqual([]);
  });
});
