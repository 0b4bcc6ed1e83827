import type { Db } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import { badInput } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import type { ConversationsService } from '../conversations/conversations.service';
import {
  advanceReadPosition,
  selectLastReadSeqs,
  selectReceipt,
  selectReceiptsOf,
  selectUnreadCounts,
  type ReadPairs,
} from './read-receipts.sql';
import { conversationReadsTopic, toReadReceiptPayload } from './read-receipts.topics';
import type { ReadReceipt } from './read-receipts.types';

/**
 * Read positions: `markConversationRead` and its events, and the batched reads behind the loaders
 * (read-receipts.loaders.ts). A sender's own position moves in the send statement
 * (messages.sql.ts). SQL in read-receipts.sql.ts.
 */
export class ReadReceiptsService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
  ) {}

  /**
   * `markConversationRead`: moves the viewer's position forward to `seq`, clamped to the newest
   * message, and publishes the move on the conversation's reads topic. A seq at or below the
   * stored one changes nothing and publishes nothing.
   * @returns the stored receipt.
   * @throws DomainError BAD_USER_INPUT for a malformed id or a negative seq; NOT_FOUND /
   *   FORBIDDEN when the conversation does not exist / the viewer is not a participant.
   */
  async markRead(viewerId: string, conversationId: string, seq: number): Promise<ReadReceipt> {
    const id = checkId(conversationId, 'conversationId');
    if (!Number.isInteger(seq) || seq < 0) throw badInput('seq must be 0 or more', 'seq');
    const moved = await advanceReadPosition(this.db.sql, {
      conversationId: id,
      userId: viewerId,
      seq,
      readAt: new Date(),
    });
    if (moved) {
      if (moved.lastReadSeq > 0) await this.publish(moved);
      return moved;
    }
    await this.conversations.requireParticipant(viewerId, id);
    // A participant whose position did not move has one stored at or past `seq`.
    const stored = await selectReceipt(this.db.sql, id, viewerId);
    if (!stored) throw new Error('the read position did not move, yet none is stored');
    return stored;
  }

  /** The stored `last_read_seq` of each (conversation, user) pair that has one (the lastReadSeq loader). */
  lastReadSeqsOf(pairs: ReadPairs): Promise<Array<{ conversationId: string; userId: string; seq: number }>> {
    return selectLastReadSeqs(this.db.sql, pairs);
  }

  /** Unread counts of (conversation, user) pairs whose conversation exists (the unreadCount loader). */
  unreadCountsOf(pairs: ReadPairs): Promise<Array<{ conversationId: string; userId: string; count: number }>> {
    return selectUnreadCounts(this.db.sql, pairs);
  }

  /** Every participant's position in each of the conversations, sorted by user id within one (the readReceipts loader). */
  receiptsOf(conversationIds: readonly string[]): Promise<ReadReceipt[]> {
    return selectReceiptsOf(this.db.sql, conversationIds);
  }

  private async publish(r: ReadReceipt): Promise<void> {
    try {
      await this.bus.publish(conversationReadsTopic(r.conversationId), toReadReceiptPayload(r));
    } catch (err) {
      // Committed: readers get it from PostgreSQL; live subscribers miss this one move only.
      this.log.error({ err, conversationId: r.conversationId }, 'publishing a read receipt failed');
    }
  }
}
