/** A conversation that includes the receiving user was just created. */
export interface ConversationJoinedPayload {
  conversationId: string;
}

/**
 * The user's own topic: {@link ConversationJoinedPayload}s of conversations created with them, so
 * that their live subscriptions over all conversations start following the new one. Topics are
 * scoped (per conversation, per user) so that an event reaches only the subscriptions that asked
 * for it; the event bus adds the deployment's prefix (REDIS_PREFIX).
 */
export const userConversationsTopic = (userId: string) => `user.${userId}.conversations`;
