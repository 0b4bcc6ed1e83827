import { randomUUID } from 'node:crypto';
import {
  ConversationsDocument,
  MessageAddedDocument,
  MessagesDocument,
  SendMessageDocument,
  type MessagesQuery,
  type SendMessageInput,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, connected, http, ok, wsOk } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useInstances, type TestCluster } from '../support/server';

// No notifications worker: its statements would count in the send's statement count below.
const setup = useInstances(1, { NOTIFY_WORKER: 'false', MESSAGE_TAIL_CHECK_MS: '0', SESSION_CACHE_MS: '60000' });
const { keep } = setup;
let cluster: TestCluster;
let server: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
let conversationId: string;

beforeAll(async () => {
  ({ cluster, a: server } = setup);
  [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((prefix) => buildUser(server, { prefix })));
  conversationId = (await buildConversation(server, alice, bob)).id;
});

const send = (user: TestUser, input: SendMessageInput) => http(server, SendMessageDocument, { input }, user.token);

async function history(user: TestUser, id: string, order: 'NEWEST_FIRST' | 'OLDEST_FIRST', first: number) {
  const pages: MessagesQuery['messages'][] = [];
  let after: string | null | undefined = undefined;
  do {
    const page: MessagesQuery = await ok(
      server,
      MessagesDocument,
      { conversationId: id, first, after, order },
      user.token,
    );
    pages.push(page.messages);
    after = page.messages.pageInfo.hasNextPage ? page.messages.pageInfo.endCursor : null;
  } while (after);
  return pages;
}

describe('sendMessage', () => {
  it('stores the body exactly as sent and returns it with seq and sender', async () => {
    const body = '  <b>not html</b> & emoji 🎉\nline two  ';
    const result = await send(alice, { conversationId, body, clientMessageId: 'c-1' });
    expect(result.errors).toBeUndefined();
    const m = result.data!.sendMessage;
    expect(m).toMatchObject({ body, conversationId, clientMessageId: 'c-1', sender: { id: alice.id } });
    expect(m.seq).toBeGreaterThanOrEqual(1);
    expect(m.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const { messages } = await ok(server, MessagesDocument, { conversationId, first: 1 }, bob.token);
    expect(messages.edges[0].node).toEqual(m);
  });

  it('accepts 4000 characters (code points) and refuses 4001, blank and empty bodies', async () => {
    const before =
      (await ok(server, MessagesDocument, { conversationId, first: 1 }, alice.token)).messages.edges[0]?.node.seq ?? 0;
    expect((await send(alice, { conversationId, body: '😀'.repeat(4000) })).errors).toBeUndefined();
    for (const body of ['😀'.repeat(4001), '', '   \n\t']) {
      const result = await send(alice, { conversationId, body });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0].extensions!.field).toBe('body');
    }
    const after = (await ok(server, MessagesDocument, { conversationId, first: 1 }, alice.token)).messages.edges[0].node
      .seq;
    expect(after).toBe(before + 1);
  });

  it('needs exactly one of conversationId and participantIds, and a 1-64 character clientMessageId', async () => {
    expect(codes(await send(alice, { body: 'x' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send(alice, { body: 'x', conversationId, participantIds: [bob.id] }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await send(alice, { body: 'x', conversationId, clientMessageId: '' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send(alice, { body: 'x', conversationId, clientMessageId: 'k'.repeat(65) }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await send(alice, { body: 'x', conversationId: 'nope' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send(alice, { body: 'x', conversationId: randomUUID() }))).toEqual(['NOT_FOUND']);
  });

  it('creates the conversation from participantIds, and reuses it next time', async () => {
    const carol = await buildUser(server, { prefix: 'carol' });
    const first = await send(carol, { participantIds: [alice.id, bob.id], body: 'hi group' });
    expect(first.errors).toBeUndefined();
    expect(first.data!.sendMessage.seq).toBe(1);
    const second = await send(bob, { participantIds: [carol.id, alice.id], body: 'hello' });
    expect(second.data!.sendMessage.conversationId).toBe(first.data!.sendMessage.conversationId);
    expect(second.data!.sendMessage.seq).toBe(2);
    const { conversations } = await ok(server, ConversationsDocument, { first: 1 }, carol.token);
    expect(conversations.edges[0].node).toMatchObject({ id: first.data!.sendMessage.conversationId, isGroup: true });
  });

  it('returns the stored message for a retried clientMessageId and creates nothing', async () => {
    const input = { conversationId, body: 'once', clientMessageId: `retry-${randomUUID()}` };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => send(alice, input)));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const ids = new Set(results.map((r) => r.data!.sendMessage.id));
    expect(ids.size).toBe(1);
    const { messages } = await ok(server, MessagesDocument, { conversationId, first: 3 }, alice.token);
    expect(messages.edges.filter((e) => e.node.clientMessageId === input.clientMessageId)).toHaveLength(1);
    // Seqs stay gap-free after the refused duplicates.
    const next = await send(alice, { conversationId, body: 'after retries' });
    expect(next.data!.sendMessage.seq).toBe(results[0].data!.sendMessage.seq + 1);
    // Reusing the key for another body is a CONFLICT; another sender may use the same key.
    expect(codes(await send(alice, { ...input, body: 'different' }))).toEqual(['CONFLICT']);
    expect((await send(bob, input)).data!.sendMessage.sender.id).toBe(bob.id);
  });

  it("costs one SQL statement: seq, insert, the sender's read position and the sender's fields", async () => {
    const queries = async () => (await server.metrics.dbQueries.get()).values[0].value;
    const before = await queries();
    const result = await send(bob, { conversationId, body: 'one round trip' });
    expect(await queries()).toBe(before + 1);
    expect(result.data!.sendMessage.sender).toEqual({
      id: bob.id,
      username: bob.username,
      displayName: bob.displayName,
    });
  });

  it('costs one SQL statement over WebSocket too, sender included', async () => {
    const client = keep(await connected(server, bob));
    const queries = async () => (await server.metrics.dbQueries.get()).values[0].value;
    const before = await queries();
    const { sendMessage } = await wsOk(client, SendMessageDocument, {
      input: { conversationId, body: 'over the socket' },
    });
    expect(await queries()).toBe(before + 1);
    expect(sendMessage.sender).toEqual({ id: bob.id, username: bob.username, displayName: bob.displayName });
  });

  it('delivers a message to another instance with its sender, without a query there', async () => {
    const other = await cluster.start({ NOTIFY_WORKER: 'false' });
    const queries = async () => (await other.metrics.dbQueries.get()).values[0]?.value ?? 0;
    const sub = keep(await subscribeLive(other, alice, 'messageAdded', MessageAddedDocument, { conversationId }));
    const queriesBefore = await queries();
    await send(bob, { conversationId, body: 'across instances' });
    const [event] = await sub.waitFor(1);
    expect(event.messageAdded).toMatchObject({
      body: 'across instances',
      sender: { id: bob.id, username: bob.username, displayName: bob.displayName },
    });
    expect(await queries()).toBe(queriesBefore);
  });

  it('gives 50 concurrent sends to one conversation the seqs 1..50', async () => {
    const dave = await buildUser(server, { prefix: 'dave' });
    const erin = await buildUser(server, { prefix: 'erin' });
    const id = (await buildConversation(server, dave, erin)).id;
    const other = await cluster.start();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        http(
          i % 2 ? server : other,
          SendMessageDocument,
          { input: { conversationId: id, body: `m${i}` } },
          (i % 3 ? dave : erin).token,
        ),
      ),
    );
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(results.map((r) => r.data!.sendMessage.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('is FORBIDDEN for a non-participant, who can neither send nor read', async () => {
    const before = await ok(server, MessagesDocument, { conversationId, first: 1 }, alice.token);
    expect(codes(await send(mallory, { conversationId, body: 'let me in' }))).toEqual(['FORBIDDEN']);
    expect(codes(await http(server, MessagesDocument, { conversationId }, mallory.token))).toEqual(['FORBIDDEN']);
    const after = await ok(server, MessagesDocument, { conversationId, first: 1 }, alice.token);
    expect(after).toEqual(before);
  });
});

describe('messages pagination', () => {
  let id: string;
  let reader: TestUser;
  beforeAll(async () => {
    const a = await buildUser(server, { prefix: 'pa' });
    const b = await buildUser(server, { prefix: 'pb' });
    id = (await buildConversation(server, a, b)).id;
    for (let i = 1; i <= 25; i++)
      await ok(server, SendMessageDocument, { input: { conversationId: id, body: `n${i}` } }, (i % 2 ? a : b).token);
    reader = a;
  });

  it('pages newest first toward older messages with exact hasNextPage', async () => {
    const pages = await history(reader, id, 'NEWEST_FIRST', 10);
    expect(pages.map((p) => p.edges.length)).toEqual([10, 10, 5]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.flatMap((p) => p.edges.map((e) => e.node.seq))).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  it('pages oldest first toward newer messages', async () => {
    const pages = await history(reader, id, 'OLDEST_FIRST', 5);
    expect(pages).toHaveLength(5);
    expect(pages[4].pageInfo.hasNextPage).toBe(false);
    expect(pages.flatMap((p) => p.edges.map((e) => e.node.body))).toEqual(
      Array.from({ length: 25 }, (_, i) => `n${i + 1}`),
    );
  });

  it('resumes OLDEST_FIRST from a cursor taken NEWEST_FIRST (catch-up after a gap)', async () => {
    const { messages } = await ok(server, MessagesDocument, { conversationId: id, first: 5 }, reader.token);
    const cursorOfSeq21 = messages.edges[4].cursor;
    const { messages: newer } = await ok(
      server,
      MessagesDocument,
      { conversationId: id, after: cursorOfSeq21, order: 'OLDEST_FIRST' },
      reader.token,
    );
    expect(newer.edges.map((e) => e.node.seq)).toEqual([22, 23, 24, 25]);
  });

  it('refuses first outside 1..100 and a foreign cursor', async () => {
    for (const first of [0, -1, 101]) {
      expect(codes(await http(server, MessagesDocument, { conversationId: id, first }, reader.token))).toEqual([
        'BAD_USER_INPUT',
      ]);
    }
    const { conversations } = await ok(server, ConversationsDocument, { first: 1 }, reader.token);
    const foreign = conversations.edges[0].cursor;
    expect(codes(await http(server, MessagesDocument, { conversationId: id, after: foreign }, reader.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await http(server, MessagesDocument, { conversationId: id, after: '!!' }, reader.token))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('costs a fixed number of SQL queries for a page of 50 messages with senders, whatever the page size', async () => {
    for (let i = 26; i <= 60; i++)
      await ok(server, SendMessageDocument, { input: { conversationId: id, body: `n${i}` } }, reader.token);
    const queriesFor = async (first: number) => {
      // prom-client's get() hands out its live value objects: read the number before the query.
      const before = (await server.metrics.dbQueries.get()).values[0].value;
      const { messages } = await ok(server, MessagesDocument, { conversationId: id, first }, reader.token);
      expect(messages.edges).toHaveLength(first);
      return (await server.metrics.dbQueries.get()).values[0].value - before;
    };
    const small = await queriesFor(2);
    const large = await queriesFor(50);
    expect(large).toBe(small);
    expect(large).toBe(1); // membership, the page and its senders in one statement
  });

  it('answers an empty page to a participant, and still refuses others, past the end of history', async () => {
    const { messages } = await ok(
      server,
      MessagesDocument,
      { conversationId: id, first: 1, order: 'OLDEST_FIRST' },
      reader.token,
    );
    const oldest = messages.edges[0].cursor;
    const past = await ok(
      server,
      MessagesDocument,
      { conversationId: id, after: oldest, order: 'NEWEST_FIRST' },
      reader.token,
    );
    expect(past.messages).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const outsider = await buildUser(server, { prefix: 'pc' });
    expect(codes(await http(server, MessagesDocument, { conversationId: id, after: oldest }, outsider.token))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codes(await http(server, MessagesDocument, { conversationId: randomUUID() }, outsider.token))).toEqual([
      'NOT_FOUND',
    ]);
  });
});
