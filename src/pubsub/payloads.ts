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
}

/** A conversation that includes the receiving user was just created. */
export interface ConversationJoinedPayload {
  conversationId: string;
}

/** A session was revoked (logout): sockets opened with it must close with 4403. */
export interface SessionRevokedPayload {
  sessionId: string;
}
