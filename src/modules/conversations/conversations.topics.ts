/** A conversation that includes the receiving user was just created. */
export interface ConversationJoinedPayload {
  conversationId: string;
}

/**
 * The user's own topic: {@link ConversationJoinedPayload}s of conversations created with them, so
 * that their live subscriptions over all conversations start following the new one. Fed on each
 * instance from {@link CONVERSATIONS_CREATED_TOPIC} (nothing is published on it across
 * instances): subscribe with `local`. Topics are scoped (per conversation, per user) so that an
 * event reaches only the subscriptions that asked for it.
 */
export const userConversationsTopic = (userId: string) => `user.${userId}.conversations`;

/**
 * Every conversation created, once for all its participants. Each instance hands it to its local
 * subscribers of {@link userConversationsTopic}: one Redis channel per instance instead of one per
 * subscribed socket (a socket following all its conversations listened to its user's channel).
 * Conversations are created far more rarely than sockets connect. The event bus adds the
 * deployment's prefix (REDIS_PREFIX).
 */
export const CONVERSATIONS_CREATED_TOPIC = 'conversations.created';

/** What {@link CONVERSATIONS_CREATED_TOPIC} carries. */
export interface ConversationCreatedPayload {
  conversationId: string;
  participantIds: string[];
}
