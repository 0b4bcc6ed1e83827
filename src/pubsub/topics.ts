/**
 * Every pub/sub topic Parley uses, built in one place. Topics are scoped (per conversation, per
 * user) so that delivering one event reaches only the subscriptions that asked for it, instead of
 * running a filter for every subscriber of a global topic. The event bus adds the deployment's
 * prefix (REDIS_PREFIX) to each.
 */
export const topics = {
  /** {@link MessageAddedPayload}s of one conversation, in the order of their commits. */
  conversationMessages: (conversationId: string) => `conversation.${conversationId}.messages`,
  /** {@link ConversationJoinedPayload}s: a conversation including this user was created. */
  userConversations: (userId: string) => `user.${userId}.conversations`,
  /** {@link PresenceChangedPayload}s of one user: real changes of their presence. */
  userPresence: (userId: string) => `user.${userId}.presence`,
  /** {@link TypingPayload}s of one conversation. */
  conversationTyping: (conversationId: string) => `conversation.${conversationId}.typing`,
  /** {@link ReadReceiptPayload}s of one conversation: `markConversationRead` moved a participant's read position (a sender's move on send is derived from the message event). */
  conversationReads: (conversationId: string) => `conversation.${conversationId}.reads`,
  /** {@link SessionRevokedPayload}s for every instance (control channel, one subscription each). */
  sessionRevoked: () => 'sessions.revoked',
} as const;
