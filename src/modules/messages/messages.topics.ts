import { Message } from './message.entity';
import { senderUser } from './messages.sql';

/**
 * A stored message, as published after its transaction committed. Payloads cross Redis as JSON:
 * ids, numbers and ISO-8601 strings, never `Date`s.
 */
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

/** {@link MessageAddedPayload}s of one conversation, in the order of their commits. */
export const conversationMessagesTopic = (conversationId: string) => `conversation.${conversationId}.messages`;

const MESSAGES_TOPIC = /^conversation\.([^.]+)\.messages$/;

/** The conversation of a {@link conversationMessagesTopic}, or `null` for any other topic. */
export const conversationOfMessagesTopic = (topic: string): string | null => MESSAGES_TOPIC.exec(topic)?.[1] ?? null;

/**
 * Handed by the tail check (message-tail-check.ts) to this instance's listeners of a
 * conversation's messages topic, never published: the conversation's newest seq, as PostgreSQL has
 * it. A stream whose cursor is below it fills the gap from PostgreSQL.
 */
export interface MessageTailPayload {
  conversationId: string;
  lastSeq: number;
}

/** The payload of a stored message (dates as ISO strings), with its sender's fields when attached. */
export function toMessagePayload(m: Message): MessageAddedPayload {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    body: m.body,
    seq: m.seq,
    clientMessageId: m.clientMessageId,
    createdAt: m.createdAt.toISOString(),
    ...(m.sender
      ? {
          sender: {
            username: m.sender.username,
            displayName: m.sender.displayName,
            createdAt: m.sender.createdAt.toISOString(),
          },
        }
      : {}),
  };
}

/** Rebuilds a {@link Message} from its payload (ISO dates back to `Date`), its sender attached when the payload has it. */
export function messageFromPayload(p: MessageAddedPayload): Message {
  const message = new Message();
  message.id = p.id;
  message.conversationId = p.conversationId;
  message.senderId = p.senderId;
  message.body = p.body;
  message.seq = p.seq;
  message.clientMessageId = p.clientMessageId;
  message.createdAt = new Date(p.createdAt);
  if (p.sender)
    message.sender = senderUser(p.senderId, p.sender.username, p.sender.displayName, new Date(p.sender.createdAt));
  return message;
}
