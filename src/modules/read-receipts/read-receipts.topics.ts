import type { MessageAddedPayload } from '../messages/messages.topics';
import { ReadReceipt } from './read-receipts.types';

/** A participant's read position moved forward. JSON-safe: ids, numbers and ISO-8601 strings. */
export interface ReadReceiptPayload {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
  /** ISO-8601 */
  readAt: string;
}

/**
 * {@link ReadReceiptPayload}s of one conversation: `markConversationRead` moved a participant's
 * read position (a sender's move on send is derived from the message event).
 */
export const conversationReadsTopic = (conversationId: string) => `conversation.${conversationId}.reads`;

/** The payload of a stored receipt (`readAt` as an ISO string). */
export function toReadReceiptPayload(r: ReadReceipt): ReadReceiptPayload {
  return {
    conversationId: r.conversationId,
    userId: r.userId,
    lastReadSeq: r.lastReadSeq,
    readAt: r.readAt.toISOString(),
  };
}

/** Rebuilds a {@link ReadReceipt} from its payload (`readAt` back to a `Date`). */
export function readReceiptFromPayload(p: ReadReceiptPayload): ReadReceipt {
  return receipt(p.conversationId, p.userId, p.lastReadSeq, p.readAt);
}

/**
 * The sender's move a message implies: the send statement moved its sender's position to the
 * message, at its creation time, and published only the message.
 */
export function readReceiptFromMessage(m: MessageAddedPayload): ReadReceipt {
  return receipt(m.conversationId, m.senderId, m.seq, m.createdAt);
}

function receipt(conversationId: string, userId: string, lastReadSeq: number, readAt: string): ReadReceipt {
  const r = new ReadReceipt();
  r.conversationId = conversationId;
  r.userId = userId;
  r.lastReadSeq = lastReadSeq;
  r.readAt = new Date(readAt);
  return r;
}
