import { defineLoader, groupedLoader, keyedLoader } from '../../shared/loader';
import type { ReadPairs } from './read-receipts.sql';
import { ReadReceiptsService } from './read-receipts.service';

/** The key of a (conversation, user) pair in {@link lastReadSeqLoader} and {@link unreadCountLoader}: `conversationId:userId`. */
export const readKey = (conversationId: string, userId: string) => `${conversationId}:${userId}`;

/** The pairs of {@link readKey}s, as the SQL takes them. */
function splitKeys(keys: readonly string[]): ReadPairs {
  return { conversationIds: keys.map((k) => k.split(':')[0]), userIds: keys.map((k) => k.split(':')[1]) };
}

/**
 * `lastReadSeq` by {@link readKey}: `{ key, seq }`, or `null` when the user has read nothing
 * there (read it as 0). One query per batch.
 */
export const lastReadSeqLoader = defineLoader('lastReadSeq', ({ container }, options) =>
  keyedLoader(
    async (keys: readonly string[]) => {
      const rows = await container.get(ReadReceiptsService).lastReadSeqsOf(splitKeys(keys));
      return rows.map((r) => ({ key: readKey(r.conversationId, r.userId), seq: r.seq }));
    },
    (row) => row.key,
    options,
  ),
);

/**
 * Unread counts by {@link readKey}: `{ key, count }` (messages from others after the user's read
 * position), or `null` for an unknown conversation. One query per batch, constant time per pair
 * whatever the backlog.
 *
 * A user's own messages are never after their position: the send statement moves the sender's
 * position to each message it stores, and positions only move forward (`markConversationRead`
 * clamps to the newest seq). With seqs gapless, the messages after a position are therefore the
 * conversation's `last_seq` minus the position, all from others; counting them instead would cost
 * time in proportion to the unread backlog.
 */
export const unreadCountLoader = defineLoader('unreadCount', ({ container }, options) =>
  keyedLoader(
    async (keys: readonly string[]) => {
      const rows = await container.get(ReadReceiptsService).unreadCountsOf(splitKeys(keys));
      return rows.map((r) => ({ key: readKey(r.conversationId, r.userId), count: r.count }));
    },
    (row) => row.key,
    options,
  ),
);

/**
 * Every participant's read position by conversation id, sorted by user id (empty for an unknown
 * id). A participant who has read nothing is at 0, since joining. One query per batch.
 */
export const readReceiptsLoader = defineLoader('readReceipts', ({ container }, options) =>
  groupedLoader(
    (ids: readonly string[]) => container.get(ReadReceiptsService).receiptsOf(ids),
    (r) => r.conversationId,
    options,
  ),
);
