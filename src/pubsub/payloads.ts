/**
 * Payloads carried between instances. They cross Redis as JSON, so they hold ids, numbers and
 * ISO-8601 strings only, never `Date`s (which would arrive as strings anyway).
 */

/** A stored message, as published after its transaction committed. */
export interface MessageAddedPayload {
  id: string;
  conversationId: string;
  senderId: string;
  body: string;
  seq: number;
  clientMessageId: string | null;
  /** ISO-8601 */
  createdAt: string;
  /**
   * The sender's public fields as the send's statement read them, so that no subscriber's
   * instance reads the sender again (absent from payloads of older instances: then it is read).
   */
  sender?: { username: string; displayName: string; createdAt: string };
}

/** A conversation that includes the receiving user was just created. */
export interface ConversationJoinedPayload {
  conversationId: string;
}

/** A session was revoked (logout): sockets opened with it must close with 4403. */
export interface SessionRevokedPayload {
  sessionId: string;
}

/** A user's presence after a real change (status or active conversation). */
export interface PresenceChangedPayload {
  userId: string;
  status: 'ONLINE' | 'AWAY' | 'OFFLINE';
  connectionCount: number;
  activeConversationId: string | null;
  /** ISO-8601; the change's time while connected, the last connection's end once OFFLINE. */
  lastSeenAt: string | null;
  /**
   * Grows with every change of this user (assigned atomically with it), so that a subscriber
   * drops an older change that reaches it late from another instance.
   */
  version: number;
}

/** A participant started or stopped typing in a conversation. */
export interface TypingPayload {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}

/** A participant's read position moved forward. */
export interface ReadReceiptPayload {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
  /** ISO-8601 */
  readAt: string;
}
