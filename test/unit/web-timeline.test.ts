import { ChatStore } from '../../src/web/src/chat/chat-store';
import { CANNOT_MESSAGE_USER, describeFailure, rateLimitWait } from '../../src/web/src/chat/errors';
import {
  addNotifications,
  emptyNotifications,
  markNotificationsRead,
  unreadOf,
  type Notification,
} from '../../src/web/src/chat/notifications';
import { seenBy, seenByLabel } from '../../src/web/src/chat/receipts';
import {
  addPending,
  emptyTimeline,
  failPending,
  mergeMessages,
  mergeOlderPage,
  newestSeq,
  type Message,
  type PendingMessage,
} from '../../src/web/src/chat/timeline';

const alice = { id: 'a', username: 'alice', displayName: 'Alice' };
const bob = { id: 'b', username: 'bob', displayName: 'Bob' };
const carol = { id: 'c', username: 'carol', displayName: '' };

const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  conversationId: 'c1',
  seq,
  body: `#${seq}`,
  clientMessageId: null,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  sender: bob,
  ...over,
});

const pending = (clientMessageId: string, body = 'hi'): PendingMessage => ({
  clientMessageId,
  conversationId: 'c1',
  body,
  createdAt: new Date().toISOString(),
  sender: alice,
  error: null,
});

const seqs = (t: { messages: readonly Message[] }) => t.messages.map((m) => m.seq);

describe('web client timeline', () => {
  it('merges live, replayed and paged messages in seq order, each seq once', () => {
    let t = mergeMessages(emptyTimeline, [msg(5), msg(6)]); // live
    t = mergeMessages(t, [msg(6), msg(7)]); // a replay overlapping the live stream
    t = mergeOlderPage(t, { messages: [msg(4), msg(3), msg(2)], endCursor: 'cur2', hasNextPage: true });
    t = mergeMessages(t, [msg(9), msg(8)]); // out of order
    expect(seqs(t)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(newestSeq(t)).toBe(9);
    expect(t.olderCursor).toBe('cur2');
    expect(t.hasOlder).toBe(true);
    t = mergeOlderPage(t, { messages: [msg(1)], endCursor: 'cur3', hasNextPage: false });
    expect(seqs(t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.hasOlder).toBe(false);
  });

  it('returns the same timeline when nothing is new', () => {
    const t = mergeMessages(emptyTimeline, [msg(1), msg(2)]);
    expect(mergeMessages(t, [msg(2), msg(1)])).toBe(t);
    expect(newestSeq(emptyTimeline)).toBe(0);
  });

  it('replaces an optimistic send by the stored message with its clientMessageId', () => {
    let t = addPending(mergeMessages(emptyTimeline, [msg(1)]), pending('k1', 'hello'));
    expect(t.pending.map((p) => p.clientMessageId)).toEqual(['k1']);
    t = mergeMessages(t, [msg(2, { sender: alice, body: 'hello', clientMessageId: 'k1' })]);
    expect(t.pending).toEqual([]);
    expect(seqs(t)).toEqual([1, 2]);
  });

  it('shows a retried send once, and not at all again after it was stored', () => {
    let t = addPending(emptyTimeline, pending('k1'));
    t = failPending(t, 'k1', 'You are offline');
    expect(t.pending[0].error).toBe('You are offline');
    t = addPending(t, pending('k1')); // retry with the same key
    expect(t.pending).toHaveLength(1);
    expect(t.pending[0].error).toBeNull();
    // The first attempt had reached the server: its live echo and the retry's answer are the same message.
    const stored = msg(1, { sender: alice, clientMessageId: 'k1' });
    t = mergeMessages(mergeMessages(t, [stored]), [stored]);
    expect(t.pending).toEqual([]);
    expect(seqs(t)).toEqual([1]);
    expect(addPending(t, pending('k1'))).toBe(t);
  });
});

describe('web client chat store', () => {
  const conversation = (over: Record<string, unknown> = {}) => ({
    id: 'c1',
    isGroup: false,
    title: null,
    lastActivityAt: '2026-01-01T00:00:00.000Z',
    lastSeq: 3,
    lastReadSeq: 3,
    unreadCount: 0,
    participants: [alice, bob].map((u) => ({
      ...u,
      presence: { userId: u.id, status: 'ONLINE' as const, lastSeenAt: null },
    })),
    lastMessage: msg(3),
    readReceipts: [],
    ...over,
  });

  it('resumes from the newest seq it holds, counts unread from others only', () => {
    const store = new ChatStore(alice.id);
    store.upsertConversations([conversation(), conversation({ id: 'c2', lastSeq: 0, lastMessage: null })]);
    expect(store.positions()).toEqual([
      { conversationId: 'c1', seq: 3 },
      { conversationId: 'c2', seq: 0 },
    ]);
    store.addMessages([msg(4), msg(5, { sender: alice })]);
    expect(store.positions()[0]).toEqual({ conversationId: 'c1', seq: 5 });
    const c1 = store.getState().conversations.get('c1')!;
    expect(c1.lastMessage?.seq).toBe(5);
    expect(c1.unreadCount).toBe(0); // the viewer's own message: read up to it
    store.addMessages([msg(6)]);
    expect(store.getState().conversations.get('c1')!.unreadCount).toBe(1);
    store.markRead('c1', 6);
    expect(store.getState().conversations.get('c1')!.unreadCount).toBe(0);
  });

  it('orders conversations by activity and reports conversations it does not know', () => {
    const store = new ChatStore(alice.id);
    store.upsertConversations([conversation(), conversation({ id: 'c2', lastActivityAt: '2026-01-02T00:00:00.000Z' })]);
    expect(store.getState().order).toEqual(['c2', 'c1']);
    store.addMessages([msg(4, { createdAt: '2026-01-03T00:00:00.000Z' })]);
    expect(store.getState().order).toEqual(['c1', 'c2']);
    expect(store.addMessages([msg(1, { conversationId: 'c9' })])).toEqual(['c9']);
  });

  it('keeps live progress when an older list page arrives', () => {
    const store = new ChatStore(alice.id);
    store.upsertConversations([conversation()]);
    store.addMessages([msg(4)]);
    store.upsertConversations([conversation()]); // read before message 4
    expect(store.getState().conversations.get('c1')!.lastSeq).toBe(4);
    expect(store.positions()[0].seq).toBe(4);
  });

  it('shows a typist until the typing event expires or they stop', () => {
    const store = new ChatStore(alice.id);
    store.setTyping('c1', bob, true, 1000);
    store.setTyping('c1', alice, true, 1000); // the viewer is never shown
    expect(store.typists('c1', 2000).map((t) => t.user.id)).toEqual(['b']);
    expect(store.typists('c1', 1000 + 60_000)).toEqual([]);
    store.setTyping('c1', bob, false, 3000);
    expect(store.typists('c1', 3000)).toEqual([]);
  });
});

describe('web client read receipts and errors', () => {
  it('names who has seen the viewer newest message', () => {
    const receipts = [
      { userId: 'b', lastReadSeq: 7 },
      { userId: 'c', lastReadSeq: 5 },
      { userId: 'a', lastReadSeq: 7 },
    ];
    expect(seenBy(7, receipts, [alice, bob, carol], 'a')).toEqual([bob]);
    expect(seenByLabel(seenBy(5, receipts, [alice, bob, carol], 'a'))).toBe('Seen by Bob and carol');
    expect(seenBy(0, receipts, [alice, bob], 'a')).toEqual([]);
    expect(seenByLabel([])).toBe('');
  });

  it('says when to try again when rate limited, and what a wrong password is', () => {
    const limited = {
      graphQLErrors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', retryAfterMs: 1200 } }],
    };
    expect(describeFailure(limited)).toBe('Too many requests: try again in 2 s.');
    const wrong = { graphQLErrors: [{ message: 'x', extensions: { code: 'UNAUTHENTICATED' } }] };
    expect(describeFailure(wrong, 'log in')).toBe('Wrong username or password.');
    expect(describeFailure({ graphQLErrors: [{ message: 'x', extensions: { code: 'FORBIDDEN' } }] })).toMatch(
      /not a participant/,
    );
    expect(describeFailure({ networkError: new Error('fetch failed') })).toMatch(/offline/);
  });
});

describe('web client notifications, blocks and rate limits', () => {
  const note = (id: string, second: number, over: Partial<Notification> = {}): Notification => ({
    id,
    kind: 'NEW_MESSAGE',
    conversationId: 'c1',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(),
    readAt: null,
    message: msg(second),
    ...over,
  });

  it('keeps notifications newest first, each once, and counts the unread', () => {
    let list = addNotifications(emptyNotifications, [note('n1', 1), note('n2', 2, { readAt: 'x' })], 1);
    expect(list.unreadCount).toBe(1);
    list = addNotifications(list, [note('n3', 3, { conversationId: 'c2' })]);
    list = addNotifications(list, [note('n3', 3, { conversationId: 'c2' })]);
    expect(list.items.map((n) => n.id)).toEqual(['n3', 'n2', 'n1']);
    expect(list.unreadCount).toBe(2);
    expect(unreadOf(list, 'c1')).toEqual(['n1']);
    list = markNotificationsRead(list, ['n1', 'n2'], 'now');
    expect(list.unreadCount).toBe(1);
    expect(unreadOf(list, 'c1')).toEqual([]);
    expect(markNotificationsRead(list, ['n1'], 'later')).toBe(list);
  });

  it('says a block refused a send, and how long a rate limit asks to wait', () => {
    const blocked = {
      graphQLErrors: [
        { message: 'you cannot message this user', extensions: { code: 'FORBIDDEN', reason: CANNOT_MESSAGE_USER } },
      ],
    };
    expect(describeFailure(blocked)).toMatch(/^You cannot message this person/);
    const limited = { graphQLErrors: [{ message: 'x', extensions: { code: 'RATE_LIMITED', retryAfterMs: 1500 } }] };
    expect(rateLimitWait(limited)).toBe(1500);
    expect(rateLimitWait(blocked)).toBeNull();
  });

  it('keeps the people the viewer blocks, newest first', () => {
    const store = new ChatStore('a');
    store.setBlocked([bob]);
    store.setBlockedOne(carol, true);
    expect(store.getState().blocked.map((u) => u.id)).toEqual(['c', 'b']);
    store.setBlockedOne(bob, false);
    expect(store.isBlocked('b')).toBe(false);
    expect(store.isBlocked('c')).toBe(true);
  });
});
