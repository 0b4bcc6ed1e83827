import type { WebMessageFragment } from '../gql/generated';

/** A message as the server stored it. */
export type Message = WebMessageFragment;

/** A message the user sent that the server has not confirmed yet (or refused). */
export interface PendingMessage {
  /** The idempotency key sent with it: a retry reuses it, so the server stores the message once. */
  clientMessageId: string;
  conversationId: string;
  body: string;
  /** ISO time the user pressed Send. */
  createdAt: string;
  sender: Message['sender'];
  /** Why the last attempt failed, in words for a person; null while it is in flight. */
  error: string | null;
}

/**
 * The messages of one conversation the client holds: confirmed ones by seq, the user's own
 * unconfirmed sends after them, and where the history pages stand.
 */
export interface Timeline {
  /** Confirmed messages, ascending seq, each seq once. */
  readonly messages: readonly Message[];
  /** Optimistic sends not yet confirmed, in the order they were made. */
  readonly pending: readonly PendingMessage[];
  /** Cursor of the next older page (NEWEST_FIRST `after`), null before the first page is read. */
  readonly olderCursor: string | null;
  /** Whether older messages remain on the server; true until a page says otherwise. */
  readonly hasOlder: boolean;
}

/** A timeline with nothing loaded yet. */
export const emptyTimeline: Timeline = { messages: [], pending: [], olderCursor: null, hasOlder: true };

/** Highest seq held (0 when none): the position to resume `messageAdded(after: ...)` from. */
export function newestSeq(t: Timeline): number {
  return t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
}

/**
 * Merges messages from any source (a live event, a replay, a history page, a send's answer) into
 * a timeline: kept in seq order, a seq already held is not added twice, and a pending send whose
 * `clientMessageId` arrives is replaced by the stored message. Returns `t` itself when nothing changed.
 */
export function mergeMessages(t: Timeline, incoming: readonly Message[]): Timeline {
  if (incoming.length === 0) return t;
  const bySeq = new Map<number, Message>();
  for (const m of t.messages) bySeq.set(m.seq, m);
  let added = false;
  for (const m of incoming) {
    if (!bySeq.has(m.seq)) {
      bySeq.set(m.seq, m);
      added = true;
    }
  }
  const confirmed = new Set(incoming.map((m) => m.clientMessageId).filter((id): id is string => !!id));
  const pending = t.pending.filter((p) => !confirmed.has(p.clientMessageId));
  if (!added && pending.length === t.pending.length) return t;
  const messages = added ? [...bySeq.values()].sort((a, b) => a.seq - b.seq) : t.messages;
  return { ...t, messages, pending };
}

/** A page of history (NEWEST_FIRST): merged, and the older cursor moved past it. */
export function mergeOlderPage(
  t: Timeline,
  page: { messages: readonly Message[]; endCursor: string | null; hasNextPage: boolean },
): Timeline {
  const merged = mergeMessages(t, page.messages);
  return { ...merged, olderCursor: page.endCursor ?? merged.olderCursor, hasOlder: page.hasNextPage };
}

/**
 * Adds an optimistic send. A pending message with the same `clientMessageId` (a retry) is put
 * back in flight in its place rather than added again; one already confirmed is not added.
 */
export function addPending(t: Timeline, p: PendingMessage): Timeline {
  if (t.messages.some((m) => m.clientMessageId === p.clientMessageId)) return t;
  const i = t.pending.findIndex((q) => q.clientMessageId === p.clientMessageId);
  if (i < 0) return { ...t, pending: [...t.pending, { ...p, error: null }] };
  const pending = t.pending.slice();
  pending[i] = { ...pending[i], error: null };
  return { ...t, pending };
}

/** Marks a pending send as failed with `error` (in words for a person), so that it can be retried. */
export function failPending(t: Timeline, clientMessageId: string, error: string): Timeline {
  if (!t.pending.some((p) => p.clientMessageId === clientMessageId)) return t;
  return { ...t, pending: t.pending.map((p) => (p.clientMessageId === clientMessageId ? { ...p, error } : p)) };
}

/** Removes a pending send (the user gave up on it). */
export function dropPending(t: Timeline, clientMessageId: string): Timeline {
  return { ...t, pending: t.pending.filter((p) => p.clientMessageId !== clientMessageId) };
}

/** A fresh idempotency key for a send (36 characters; the API takes 1-64). */
export function newClientMessageId(): string {
  return globalThis.crypto.randomUUID();
}
