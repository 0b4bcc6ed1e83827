/** A participant's read position moved forward. JSON-safe. */
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
