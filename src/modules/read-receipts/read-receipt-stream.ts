import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import type { ConversationsService } from '../conversations/conversations.service';
import { userConversationsTopic, type ConversationJoinedPayload } from '../conversations/conversations.topics';
import {
  conversationMessagesTopic,
  type MessageAddedPayload,
  type MessageTailPayload,
} from '../messages/messages.topics';
import {
  conversationReadsTopic,
  readReceiptFromMessage,
  readReceiptFromPayload,
  type ReadReceiptPayload,
} from './read-receipts.topics';
import type { ReadReceipt } from './read-receipts.types';

/**
 * Opens `readReceipt` streams: the read positions of the other participants of one conversation,
 * or of each of the viewer's conversations (and those created later). The viewer's own moves are
 * not delivered.
 *
 * A send moves its sender's position to the new message in the send's own statement, and that
 * move is not published on the reads topic: it is derived here from the conversation's message
 * event (`{ userId: senderId, lastReadSeq: seq, readAt: createdAt }`), so a send costs one
 * publish, and the derivation is paid only where someone follows read receipts. The messages
 * topic shares the reads topic's Redis connection, so a reader still sees one participant's moves
 * in the order they were made.
 */
export class ReadReceiptStreams {
  /** What every stream needs, one object for all of them. */
  private readonly deps: StreamDeps;

  constructor(live: LiveStreamDeps, conversations: ConversationsService) {
    this.deps = { ...live, conversations };
  }

  /**
   * Checks the arguments and returns the stream (which subscribes when first read).
   * @param conversationId - the one conversation to follow; `null`/absent for all of the viewer's.
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when
   *   `conversationId` does not exist / the viewer is not a participant.
   */
  async open(viewerId: string, conversationId: string | null | undefined): Promise<AsyncIterable<ReadReceipt>> {
    const single =
      conversationId == null ? null : (await this.deps.conversations.requireParticipant(viewerId, conversationId)).id;
    return new ReadReceiptStream(this.deps, viewerId, single);
  }
}

interface StreamDeps extends LiveStreamDeps {
  conversations: ConversationsService;
}

/** What a followed topic carries. */
type Payload = ReadReceiptPayload | MessageAddedPayload | ConversationJoinedPayload | MessageTailPayload;

/**
 * One subscriber's stream (see {@link ReadReceiptStreams}), its state on the instance: an idle
 * subscription is held for hours by each of thousands of sockets. Each followed conversation
 * contributes two topics, its reads and its messages; without `single`, the user's conversations
 * topic is followed too.
 */
class ReadReceiptStream extends LiveStream<ReadReceipt> {
  /** The conversations followed so far: one id, or several (most streams follow one). */
  private conversations: string | string[] | null = null;
  /**
   * While {@link open} runs: the subscriptions of conversations announced meanwhile, which it
   * also waits for before the stream counts as live. `null` before and after.
   */
  private joining: Array<Promise<unknown>> | null = null;

  constructor(
    protected override readonly deps: StreamDeps,
    viewerId: string,
    private readonly single: string | null,
  ) {
    super(deps, 'readReceipt', viewerId);
  }

  /**
   * Follows the conversation, or the user's conversations topic first and then every current
   * conversation: one created in between is announced, or listed, or both.
   */
  protected async open(): Promise<void> {
    this.joining = [];
    if (this.single) {
      await this.followConversation(this.single);
    } else {
      await this.follow(userConversationsTopic(this.viewerId), { local: true });
      const positions = await this.deps.conversations.positionsOf(this.viewerId);
      await Promise.all(positions.map((p) => this.followConversation(p.id)));
    }
    for (let pending = this.joining; pending?.length; pending = this.joining) {
      this.joining = [];
      await Promise.all(pending);
    }
    this.joining = null;
  }

  /** A payload of a followed topic, told apart by shape: a receipt, a message, or a new conversation. */
  protected onEvent(p: Payload): void {
    if ('lastReadSeq' in p) {
      if (p.userId !== this.viewerId) void this.push(readReceiptFromPayload(p));
    } else if ('seq' in p) {
      if (p.senderId !== this.viewerId) void this.push(readReceiptFromMessage(p));
    } else if ('lastSeq' in p) {
      // The messages module's tail check (a MessageTailPayload): nothing to tell a reader.
    } else {
      this.onJoined(p.conversationId);
    }
  }

  protected *followed(): Iterable<string> {
    if (!this.single) yield userConversationsTopic(this.viewerId);
    for (const id of [this.conversations ?? []].flat()) {
      yield conversationReadsTopic(id);
      yield conversationMessagesTopic(id);
    }
  }

  /** The viewer joined a conversation: follow it; a failed subscription ends the stream. */
  private onJoined(conversationId: string): void {
    if (this.stopped || this.follows(conversationId)) return;
    const subscribed = this.followConversation(conversationId);
    subscribed.catch((err: unknown) => this.end(err));
    this.joining?.push(subscribed);
  }

  /** Subscribes a conversation's reads and messages topics (once per conversation). */
  private followConversation(conversationId: string): Promise<unknown> {
    if (this.follows(conversationId)) return Promise.resolve();
    const { conversations } = this;
    this.conversations =
      conversations === null
        ? conversationId
        : typeof conversations === 'string'
          ? [conversations, conversationId]
          : (conversations.push(conversationId), conversations);
    return Promise.all([
      this.follow(conversationReadsTopic(conversationId)),
      this.follow(conversationMessagesTopic(conversationId)),
    ]);
  }

  private follows(conversationId: string): boolean {
    const { conversations } = this;
    return typeof conversations === 'string'
      ? conversations === conversationId
      : (conversations?.includes(conversationId) ?? false);
  }
}
