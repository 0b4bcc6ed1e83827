import type {
  WebConversationFragment,
  WebPresenceFragment,
  WebReceiptFragment,
  WebUserFragment,
} from '../gql/generated';
import { mergeReceipt } from './receipts';
import {
  addPending,
  emptyTimeline,
  failPending,
  mergeMessages,
  mergeOlderPage,
  newestSeq,
  type Message,
  type PendingMessage,
  type Timeline,
} from './timeline';

/** A conversation as the list and the open view show it. */
export type Conversation = WebConversationFragment;

/** The state of the socket that carries subscriptions. */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting';

/** Someone typing in a conversation, until `until` (ms since the epoch) unless renewed. */
export interface Typist {
  user: WebUserFragment;
  until: number;
}

/** Everything the chat screen shows, replaced (never mutated) on each change. */
export interface ChatState {
  readonly connection: ConnectionState;
  /** By id; {@link order} lists them by activity. */
  readonly conversations: ReadonlyMap<string, Conversation>;
  /** Conversation ids, most recent activity first. */
  readonly order: readonly string[];
  readonly timelines: ReadonlyMap<string, Timeline>;
  /** By conversation, then user id. */
  readonly typing: ReadonlyMap<string, ReadonlyMap<string, Typist>>;
  /** Live presence by user id, overriding what a conversation's participants said when loaded. */
  readonly presence: ReadonlyMap<string, WebPresenceFragment>;
  /** People the viewer blocks, most recently blocked first. */
  readonly blocked: readonly WebUserFragment[];
}

/** How long a typing event shows without being renewed, in ms (the server expires it after 6 s). */
export const TYPING_SHOWN_MS = 7000;

/**
 * The client's chat state and the rules that change it, free of React and of the network: the
 * transports feed it (history pages, live events, send answers) and the components read it
 * through `subscribe` / `getState` (React's useSyncExternalStore).
 */
export class ChatStore {
  private state: ChatState = {
    connection: 'connecting',
    conversations: new Map(),
    order: [],
    timelines: new Map(),
    typing: new Map(),
    presence: new Map(),
    blocked: [],
  };
  private readonly listeners = new Set<() => void>();

  /** @param viewerId - the logged-in user, whose own messages never count as unread */
  constructor(readonly viewerId: string) {}

  getState = (): ChatState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  setConnection(connection: ConnectionState): void {
    if (connection !== this.state.connection) this.set({ connection });
  }

  /** Adds or replaces conversations (a list page, a started conversation). */
  upsertConversations(list: readonly Conversation[]): void {
    if (list.length === 0) return;
    const conversations = new Map(this.state.conversations);
    let timelines = this.state.timelines;
    for (const c of list) {
      const held = conversations.get(c.id);
      // A list page read before a live event must not move the conversation back.
      conversations.set(c.id, held && held.lastSeq > c.lastSeq ? { ...c, ...pickLive(held) } : c);
      if (c.lastMessage) timelines = withTimeline(timelines, c.id, (t) => mergeMessages(t, [c.lastMessage!]));
    }
    this.set({ conversations, order: byActivity(conversations), timelines });
  }

  timeline(conversationId: string): Timeline {
    return this.state.timelines.get(conversationId) ?? emptyTimeline;
  }

  /**
   * Where the client stands in each conversation: the newest seq it holds or knows of, for
   * `messageAdded(after: ...)` so that a resubscription fills in exactly what was missed.
   */
  positions(): Array<{ conversationId: string; seq: number }> {
    return [...this.state.conversations.values()].map((c) => ({
      conversationId: c.id,
      seq: Math.max(c.lastSeq, newestSeq(this.timeline(c.id))),
    }));
  }

  /**
   * Messages from a live event, a replay or a send's answer: merged into the timeline, and the
   * conversation's last message, activity time and unread count follow.
   * @returns the ids of conversations the client did not know (to be loaded)
   */
  addMessages(messages: readonly Message[]): string[] {
    let timelines = this.state.timelines;
    const conversations = new Map(this.state.conversations);
    const unknown: string[] = [];
    const held = new Map(messages.map((m) => [m.conversationId, newestSeq(this.timeline(m.conversationId))]));
    const isNew = (m: Message) => m.seq > (held.get(m.conversationId) ?? 0);
    for (const m of messages) {
      timelines = withTimeline(timelines, m.conversationId, (t) => mergeMessages(t, [m]));
      const c = conversations.get(m.conversationId);
      if (!c) {
        if (!unknown.includes(m.conversationId)) unknown.push(m.conversationId);
        continue;
      }
      if (m.seq <= c.lastSeq) continue;
      const mine = m.sender.id === this.viewerId;
      conversations.set(c.id, {
        ...c,
        lastSeq: m.seq,
        lastMessage: m,
        lastActivityAt: m.createdAt > c.lastActivityAt ? m.createdAt : c.lastActivityAt,
        lastReadSeq: mine ? m.seq : c.lastReadSeq,
        unreadCount: mine ? 0 : c.unreadCount + 1,
      });
    }
    // A new message ends its sender's typing indicator (one seen before, replayed again, does not).
    let typing = this.state.typing;
    for (const m of messages) {
      if (!typing.get(m.conversationId)?.has(m.sender.id) || !isNew(m)) continue;
      const inConversation = new Map(typing.get(m.conversationId));
      inConversation.delete(m.sender.id);
      typing = new Map(typing).set(m.conversationId, inConversation);
    }
    this.set({ timelines, conversations, typing, order: byActivity(conversations) });
    return unknown;
  }

  /** A page of older history (NEWEST_FIRST). */
  addOlderPage(
    conversationId: string,
    page: { messages: readonly Message[]; endCursor: string | null; hasNextPage: boolean },
  ): void {
    this.set({ timelines: withTimeline(this.state.timelines, conversationId, (t) => mergeOlderPage(t, page)) });
  }

  /** An optimistic send (or a retry of one, by the same clientMessageId). */
  addPending(p: PendingMessage): void {
    this.set({ timelines: withTimeline(this.state.timelines, p.conversationId, (t) => addPending(t, p)) });
  }

  failPending(conversationId: string, clientMessageId: string, error: string): void {
    this.set({
      timelines: withTimeline(this.state.timelines, conversationId, (t) => failPending(t, clientMessageId, error)),
    });
  }

  /** The viewer read up to `seq`: nothing unread left at or below it. */
  markRead(conversationId: string, seq: number): void {
    const c = this.state.conversations.get(conversationId);
    if (!c || c.lastReadSeq >= seq) return;
    const conversations = new Map(this.state.conversations);
    conversations.set(c.id, { ...c, lastReadSeq: seq, unreadCount: seq >= c.lastSeq ? 0 : c.unreadCount });
    this.set({ conversations });
  }

  /** Someone's read position moved. */
  addReceipt(r: WebReceiptFragment): void {
    const c = this.state.conversations.get(r.conversationId);
    if (!c) return;
    const readReceipts = mergeReceipt(c.readReceipts, r);
    if (readReceipts === c.readReceipts) return;
    const conversations = new Map(this.state.conversations);
    conversations.set(c.id, { ...c, readReceipts });
    this.set({ conversations });
  }

  /**
   * Someone started or stopped typing. A typist is shown until `now + TYPING_SHOWN_MS` unless
   * renewed; a message from them ends it too.
   * @param now - ms since the epoch
   */
  setTyping(conversationId: string, user: WebUserFragment, isTyping: boolean, now: number): void {
    if (user.id === this.viewerId) return;
    const typing = new Map(this.state.typing);
    const inConversation = new Map(typing.get(conversationId) ?? []);
    if (isTyping) inConversation.set(user.id, { user, until: now + TYPING_SHOWN_MS });
    else inConversation.delete(user.id);
    typing.set(conversationId, inConversation);
    this.set({ typing });
  }

  /** Typists of a conversation still shown at `now` (ms since the epoch). */
  typists(conversationId: string, now: number): Typist[] {
    return [...(this.state.typing.get(conversationId)?.values() ?? [])].filter((t) => t.until > now);
  }

  /** The viewer's blocked people as the server listed them. */
  setBlocked(blocked: readonly WebUserFragment[]): void {
    this.set({ blocked });
  }

  /** The viewer blocked (`isBlocked`) or unblocked `user`. */
  setBlockedOne(user: WebUserFragment, isBlocked: boolean): void {
    const others = this.state.blocked.filter((u) => u.id !== user.id);
    this.set({ blocked: isBlocked ? [user, ...others] : others });
  }

  isBlocked(userId: string): boolean {
    return this.state.blocked.some((u) => u.id === userId);
  }

  setPresence(p: WebPresenceFragment): void {
    const presence = new Map(this.state.presence);
    presence.set(p.userId, p);
    this.set({ presence });
  }
}

/** The fields a live event moves forward, kept when an older list page arrives. */
function pickLive(c: Conversation): Partial<Conversation> {
  const { lastSeq, lastMessage, lastActivityAt, lastReadSeq, unreadCount } = c;
  return { lastSeq, lastMessage, lastActivityAt, lastReadSeq, unreadCount };
}

function withTimeline(
  timelines: ReadonlyMap<string, Timeline>,
  id: string,
  change: (t: Timeline) => Timeline,
): ReadonlyMap<string, Timeline> {
  const before = timelines.get(id) ?? emptyTimeline;
  const after = change(before);
  if (after === before) return timelines;
  const next = new Map(timelines);
  next.set(id, after);
  return next;
}

function byActivity(conversations: ReadonlyMap<string, Conversation>): string[] {
  return [...conversations.values()]
    .sort((a, b) => (a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0))
    .map((c) => c.id);
}
