import type { EventBus, Unsubscribe } from '../../pubsub/event-bus';
import type { ConversationJoinedPayload, MessageAddedPayload, ReadReceiptPayload } from '../../pubsub/payloads';
import { topics } from '../../pubsub/topics';
import { holdSubscriptions, type LiveCounter } from '../../shared/stream-lifetime';
import { pushIterator } from '../../shared/push-iterator';
import type { ConversationsService } from '../conversations/conversations.service';
import { ReadReceipt } from './read-receipts.types';

/**
 * The live `readReceipt` stream of one subscriber: the reads topic of one conversation, or of
 * each of the viewer's conversations (and those created later). The viewer's own moves are not
 * delivered.
 *
 * A send moves its sender's position to the new message in the send's own statement, and that
 * move is not published on the reads topic: it is derived here from the conversation's message
 * event (`{ userId: senderId, lastReadSeq: seq, readAt: createdAt }`), so a send costs one
 * publish, and the derivation is paid only where someone follows read receipts. The messages
 * topic shares the reads topic's Redis connection, so a reader still sees one participant's moves
 * in the order they were made.
 */
export class ReadReceiptStreams {
  constructor(
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly live: LiveCounter,
  ) {}

  /**
   * Checks the arguments and returns the stream (which subscribes when first read).
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when
   *   `conversationId` does not exist / the viewer is not a participant.
   */
  async open(viewerId: string, conversationId: string | null | undefined): Promise<AsyncIterable<ReadReceipt>> {
    const single = conversationId == null ? null : (await this.conversations.requireParticipant(viewerId, conversationId)).id;
    const { bus, conversations, live } = this;
    return pushIterator<ReadReceipt>(async (push, stop) => {
      const followed = new Set<string>();
      const subscriptions: Array<Promise<Unsubscribe>> = [];
      const onReceipt = (p: ReadReceiptPayload) => {
        if (p.userId !== viewerId) void push(Object.assign(new ReadReceipt(), { ...p, readAt: new Date(p.readAt) }));
      };
      const onMessage = (m: MessageAddedPayload) => {
        if (m.senderId !== viewerId) {
          void push(Object.assign(new ReadReceipt(), { conversationId: m.conversationId, userId: m.senderId, lastReadSeq: m.seq, readAt: new Date(m.createdAt) }));
        }
      };
      const follow = (id: string) => {
        if (followed.has(id)) return;
        followed.add(id);
        subscriptions.push(bus.subscribe<ReadReceiptPayload>(topics.conversationReads(id), onReceipt));
        subscriptions.push(bus.subscribe<MessageAddedPayload>(topics.conversationMessages(id), onMessage));
      };
      if (single) {
        follow(single);
      } else {
        // New conversations first, then the current ones: one created in between is in either.
        const joined = bus.subscribe<ConversationJoinedPayload>(topics.userConversations(viewerId), (p) => follow(p.conversationId));
        subscriptions.push(joined);
        await joined.then(() => conversations.positionsOf(viewerId)).then((rows) => rows.forEach((r) => follow(r.id)), stop);
      }
      await holdSubscriptions(subscriptions, live, stop);
    });
  }
}
