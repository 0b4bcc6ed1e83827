/** A participant started or stopped typing in a conversation. */
export interface TypingPayload {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}

/** {@link TypingPayload}s of one conversation. */
export const conversationTypingTopic = (conversationId: string) => `conversation.${conversationId}.typing`;
