import type { DataSource } from 'typeorm';
import type { EventBus } from '../../pubsub/event-bus';
import type { ReadReceiptPayload } from '../../pubsub/payloads';
import { topics } from '../../pubsub/topics';
import { badInput } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import type { ConversationsService } from '../conversations/conversations.service';
import { ReadReceipt } from './read-receipts.types';

const RETURNING = `RETURNING conversation_id AS "conversationId", user_id AS "userId", last_read_seq AS "lastReadSeq", read_at AS "readAt"`;

/** Only forward: a stored position is replaced by a higher one, else nothing is returned. */
const FORWARD_ONLY = `
  ON CONFLICT (conversation_id, user_id) DO UPDATE
     SET last_read_seq = EXCLUDED.last_read_seq, read_at = EXCLUDED.read_at
   WHERE read_receipts.last_read_seq < EXCLUDED.last_read_seq
  ${RETURNING}`;

/**
 * `markConversationRead`'s move: $3 clamped to the conversation's newest seq; no row when $2 is
 * not a participant of $1 or the position would not move. $4 is the read time.
 */
const MARK_READ = `
  INSERT INTO read_receipts (conversation_id, user_id, last_read_seq, read_at)
  SELECT c.id, $2::uuid, LEAST($3::int, c.last_seq), $4::timestamptz FROM conversations c
   WHERE c.id = $1::uuid
     AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1::uuid AND user_id = $2::uuid)
  ${FORWARD_ONLY}`;

/** Read positions: `markConversationRead`, the sender's own position, and their events. */
export class ReadReceiptsService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
  ) {}

  /**
   * `markConversationRead`: moves the viewer's position forward to `seq`, clamped to the newest
   * message, and publishes the move. A seq at or below the stored one changes nothing.
   * @returns the stored receipt.
   * @throws DomainError BAD_USER_INPUT for a malformed id or a negative seq; NOT_FOUND /
   *   FORBIDDEN when the conversation does not exist / the viewer is not a participant.
   */
  async markRead(viewerId: string, conversationId: string, seq: number): Promise<ReadReceipt> {
    const id = checkId(conversationId, 'conversationId');
    if (!Number.isInteger(seq) || seq < 0) throw badInput('seq must be 0 or more', 'seq');
    const [moved] = await this.advance(MARK_READ, [id, viewerId, seq, new Date()]);
    if (moved) {
      if (moved.lastReadSeq > 0) await this.publish(moved);
      return moved;
    }
    await this.conversations.requireParticipant(viewerId, id);
    const [stored]: ReadReceipt[] = await this.ds.query(
      `SELECT conversation_id AS "conversationId", user_id AS "userId", last_read_seq AS "lastReadSeq", read_at AS "readAt"
       FROM read_receipts WHERE conversation_id = $1 AND user_id = $2`,
      [id, viewerId],
    );
    return Object.assign(new ReadReceipt(), stored);
  }

  private async advance(sql: string, params: [string, string, number, Date]): Promise<ReadReceipt[]> {
    const rows: ReadReceipt[] = await this.ds.query(sql, params);
    return rows.map((r) => Object.assign(new ReadReceipt(), r));
  }

  private async publish(r: ReadReceipt): Promise<void> {
    const payload: ReadReceiptPayload = { conversationId: r.conversationId, userId: r.userId, lastReadSeq: r.lastReadSeq, readAt: r.readAt.toISOString() };
    try {
      await this.bus.publish(topics.conversationReads(r.conversationId), payload);
    } catch (err) {
      // Committed: readers get it from PostgreSQL; live subscribers miss this one move only.
      this.log.error({ err, conversationId: r.conversationId }, 'publishing a read receipt failed');
    }
  }
}
