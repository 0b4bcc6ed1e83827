import { badInput, forbidden } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import { stampCommitted } from '../../shared/committed-at';
import { shareAcrossSubscribers } from '../../shared/event-memo';
import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import type { ConversationsService } from '../conversations/conversations.service';
import { userConversationsTopic, type ConversationJoinedPayload } from '../conversations/conversations.topics';
import type { Message } from './message.entity';
import type { MessagesService } from './messages.service';
import {
  conversationMessagesTopic,
  messageFromPayload,
  type MessageAddedPayload,
  type MessageTailPayload,
} from './messages.topics';

/**
 * One Message per received payload: the event bus hands the same parsed payload to every local
 * subscriber, so they all get the same Message, whose viewer-independent fields are resolved once.
 * It is stamped with its commit time, taken as its `createdAt` (the insert's; the send commits
 * right after), which the WebSocket transport reads for the delivery latency; replayed rows carry
 * no stamp.
 */
const fromPayload = (() => {
  const built = new WeakMap<MessageAddedPayload, Message>();
  return (p: MessageAddedPayload): Message => {
    let message = built.get(p);
    if (!message) {
      message = messageFromPayload(p);
      built.set(p, shareAcrossSubscribers(stampCommitted(message, message.createdAt.getTime())));
    }
    return message;
  };
})();

/** Rows fetched per query when replaying or filling a gap. */
const REPLAY_BATCH = 200;

/** Arguments of `Subscription.messageAdded`. */
export interface MessageStreamArgs {
  conversationId?: string | null;
  includeOwn?: boolean | null;
  after?: Array<{ conversationId: string; seq: number }> | null;
}

/**
 * The live `messageAdded` stream of one subscriber.
 *
 * Each followed conversation has a cursor: the last seq this subscriber has been given (or has
 * skipped, for its own messages). It starts at the `after` position, or at the conversation's
 * last seq read just after subscribing to its topic. A live event with the next seq is
 * delivered; one at or below the cursor is dropped (already delivered); one beyond it first
 * fills the gap from PostgreSQL. A message's seq is taken under the counter row's lock, so when
 * seq N is committed every seq below it is too, and the gap can always be read. Hence: replay then
 * live with nothing skipped or doubled at the boundary, and seq order within a conversation even
 * when instances publish out of order. All work for one subscriber runs in one queue, so events
 * that arrive during a replay wait for it.
 *
 * Without `conversationId`, the subscriber's `user.<id>.conversations` topic announces new
 * conversations, which are followed from seq 0.
 */
export class MessageStreams {
  /** What every stream needs, one object for all of them. */
  private readonly deps: StreamDeps;

  constructor(live: LiveStreamDeps, conversations: ConversationsService, messages: MessagesService) {
    this.deps = { ...live, conversations, messages };
  }

  /**
   * Checks the arguments and returns the stream (which subscribes when first read).
   * @throws DomainError BAD_USER_INPUT for malformed ids, negative seqs, or `after` naming a
   *   conversation other than `conversationId`; NOT_FOUND / FORBIDDEN when `conversationId` (or an
   *   `after` entry) names a conversation that does not exist / the viewer is not in.
   */
  async open(viewerId: string, args: MessageStreamArgs): Promise<AsyncIterable<Message>> {
    const after = new Map<string, number>();
    for (const [i, p] of (args.after ?? []).entries()) {
      const id = checkId(p.conversationId, `after[${i}].conversationId`);
      if (!Number.isInteger(p.seq) || p.seq < 0) throw badInput('seq must be 0 or more', `after[${i}].seq`);
      after.set(id, p.seq);
    }
    let single: string | null = null;
    if (args.conversationId != null) {
      single = (await this.deps.conversations.requireParticipant(viewerId, args.conversationId)).id;
      for (const id of after.keys()) {
        if (id !== single) throw badInput('after may only name the subscribed conversation', 'after');
      }
    } else if (after.size > 0) {
      const mine = new Set((await this.deps.conversations.positionsOf(viewerId)).map((c) => c.id));
      for (const id of after.keys())
        if (!mine.has(id)) throw forbidden('you are not a participant of a conversation in after');
    }
    return new MessageStream(this.deps, viewerId, single, after, args.includeOwn === true);
  }
}

interface StreamDeps extends LiveStreamDeps {
  conversations: ConversationsService;
  messages: MessagesService;
}

const IDLE: Promise<void> = Promise.resolve();

/**
 * One subscriber's stream (see {@link MessageStreams}), its state on the instance and its steps
 * as methods: an idle subscription is held for hours by each of thousands of sockets. A live
 * event with the next seq, arriving while nothing is queued, is pushed at once, without a
 * promise; everything else (set-up, replays, gap fills, events arriving meanwhile) runs in the
 * queue, in order.
 */
class MessageStream extends LiveStream<Message> {
  /**
   * The cursors (last seq given out, by conversation): the first in two fields, the others in a
   * map made when needed. Most subscriptions follow one conversation, and a Map cost ~180 bytes
   * per idle subscriber (heap snapshots of the connections benchmark).
   */
  private firstId: string | null = null;
  private firstSeq = 0;
  private more: Map<string, number> | null = null;
  /**
   * The conversations whose topics this stream has subscribed to (besides, without `single`, the
   * user's topic): one id, or several. Ids, not topic strings: the ids are the cursors' keys too.
   */
  private listened: string | string[] | null = null;
  private queue: Promise<void> = IDLE;
  /** Tasks queued and not finished: while any is, live events wait in the queue too. */
  private queued = 0;

  constructor(
    protected override readonly deps: StreamDeps,
    viewerId: string,
    private readonly single: string | null,
    private after: Map<string, number> | null,
    private readonly includeOwn: boolean,
  ) {
    super(deps, 'messageAdded', viewerId);
  }

  /** A payload of a followed topic: only a message has a seq, only the tail check's a lastSeq. */
  protected onEvent(p: MessageAddedPayload | ConversationJoinedPayload | MessageTailPayload): void {
    if ('seq' in p) this.onMessage(p);
    else if ('lastSeq' in p) this.onTail(p);
    else this.onJoined(p.conversationId);
  }

  /**
   * The conversation's newest seq (the tail check): when this stream's cursor is below it, the
   * event of at least one message never arrived; fill the gap from PostgreSQL, in the queue.
   */
  private onTail({ conversationId, lastSeq }: MessageTailPayload): void {
    const cursor = this.cursor(conversationId);
    if ((cursor === undefined || lastSeq <= cursor) && this.queued === 0) return;
    void this.enqueue(async () => {
      const at = this.cursor(conversationId);
      if (at !== undefined && lastSeq > at) await this.replay(conversationId, lastSeq);
    });
  }

  /** A live event: delivered at once when it is the next seq and nothing is queued, else queued. */
  private onMessage(p: MessageAddedPayload): void {
    const cursor = this.cursor(p.conversationId);
    if (cursor === undefined || p.seq <= cursor) {
      if (this.queued === 0) return;
    } else if (this.queued === 0 && p.seq === cursor + 1) {
      // Not awaited: a live event is handed over at once; only the queue waits for the consumer.
      void this.deliver(fromPayload(p));
      return;
    }
    void this.enqueue(() => this.onQueuedMessage(p));
  }

  /** The viewer joined a conversation: follow it from seq 0. */
  private onJoined(conversationId: string): void {
    if (this.follows(conversationId)) return;
    const subscribed = this.listen(conversationId);
    void this.enqueue(async () => {
      await subscribed;
      if (this.follows(conversationId)) return;
      this.setCursor(conversationId, 0);
      await this.replay(conversationId);
    });
  }

  /**
   * Subscribes every topic first, then reads the starting positions: a message committed after
   * that read is published after it too, so it reaches a topic already heard.
   */
  protected open(): Promise<void> {
    const joined = this.single ? null : this.follow(userConversationsTopic(this.viewerId), { local: true });
    return this.enqueue(() => this.setUp(joined));
  }

  protected *followed(): Iterable<string> {
    if (!this.single) yield userConversationsTopic(this.viewerId);
    for (const id of [this.listened ?? []].flat()) yield conversationMessagesTopic(id);
  }

  protected override idle(): Promise<unknown> {
    return this.queue;
  }

  private async setUp(joined: Promise<unknown> | null): Promise<void> {
    await joined;
    const ids = this.single
      ? [this.single]
      : (await this.deps.conversations.positionsOf(this.viewerId)).map((c) => c.id);
    await Promise.all(ids.map((id) => this.listen(id)));
    const lastSeqs = await this.deps.conversations.lastSeqsOf(ids);
    for (const id of ids) {
      const lastSeq = lastSeqs.get(id);
      if (lastSeq === undefined || this.follows(id)) continue;
      const from = this.after?.get(id);
      this.setCursor(id, from === undefined ? lastSeq : Math.min(from, lastSeq));
      if (from !== undefined) await this.replay(id);
    }
    this.after = null;
  }

  private listen(conversationId: string): Promise<unknown> {
    const { listened } = this;
    this.listened =
      listened === null
        ? conversationId
        : typeof listened === 'string'
          ? [listened, conversationId]
          : (listened.push(conversationId), listened);
    return this.follow(conversationMessagesTopic(conversationId));
  }

  private async onQueuedMessage(p: MessageAddedPayload): Promise<void> {
    const cursor = this.cursor(p.conversationId);
    if (cursor === undefined || p.seq <= cursor) return;
    if (p.seq > cursor + 1) await this.replay(p.conversationId, p.seq - 1);
    if (p.seq === this.cursor(p.conversationId)! + 1) await this.deliver(fromPayload(p));
  }

  /** The cursor of a followed conversation; undefined before its position is known. */
  private cursor(conversationId: string): number | undefined {
    return conversationId === this.firstId ? this.firstSeq : this.more?.get(conversationId);
  }

  private follows(conversationId: string): boolean {
    return conversationId === this.firstId || (this.more?.has(conversationId) ?? false);
  }

  private setCursor(conversationId: string, seq: number): void {
    if (this.firstId === null || conversationId === this.firstId) {
      this.firstId = conversationId;
      this.firstSeq = seq;
    } else {
      (this.more ??= new Map()).set(conversationId, seq);
    }
  }

  /** Runs `task` after the queued ones; a failure ends the stream. @returns settled once it ran. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queued++;
    this.queue = this.queue
      .then(task)
      .catch((err: unknown) => this.end(err))
      .finally(() => {
        // An idle stream keeps no settled promise chain.
        if (--this.queued === 0) this.queue = IDLE;
      });
    return this.queue;
  }

  private deliver(m: Message): Promise<void> | undefined {
    this.setCursor(m.conversationId, m.seq);
    if (this.includeOwn || m.senderId !== this.viewerId) {
      this.deps.observer.delivered?.('messageAdded', m.createdAt);
      return this.push(m);
    }
    return undefined;
  }

  private async replay(conversationId: string, untilSeq?: number): Promise<void> {
    for (;;) {
      const rows = await this.deps.messages.range(conversationId, this.cursor(conversationId)!, REPLAY_BATCH, untilSeq);
      for (const m of rows) await this.deliver(m);
      if (rows.length < REPLAY_BATCH) return;
    }
  }
}
