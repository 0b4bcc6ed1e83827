import type { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../db/errors';
import type { Statement, StatementRunner } from '../../db/prepared';
import type { EventBus } from '../../pubsub/event-bus';
import type { MessageAddedPayload } from '../../pubsub/payloads';
import { topics } from '../../pubsub/topics';
import { badInput, conflict } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import { checkFirst, decodeCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import type { ConversationResult, ConversationsService } from '../conversations/conversations.service';
import { User } from '../users/user.entity';
import { Message } from './message.entity';
import { MessageOrder } from './messages.types';

const CURSOR = 'message';
/** Longest body, in characters (Unicode code points). */
export const BODY_MAX = 4000;
/** Longest clientMessageId, in characters. */
export const CLIENT_MESSAGE_ID_MAX = 64;

/**
 * The select list of a message `m` joined with its sender `u`, read by {@link withSender}: one
 * query gives a page of history (or a sent message) and every sender on it. Timestamps travel as
 * epoch milliseconds (float8, exact for the stored millisecond precision): node-postgres parses a
 * `timestamptz` in text form with a regular expression per value, which was a tenth of the CPU of
 * a history page. The conversation id is the caller's parameter, not a column read 51 times.
 */
const MESSAGE_WITH_SENDER = `m.id, m.sender_id AS "senderId", m.seq, m.body, m.client_message_id AS "clientMessageId",
  (extract(epoch FROM m.created_at) * 1000)::float8 AS "createdAtMs",
  u.username, u.display_name AS "displayName", (extract(epoch FROM u.created_at) * 1000)::float8 AS "senderCreatedAtMs"`;

/** A row of {@link MESSAGE_WITH_SENDER}. */
interface MessageRow {
  id: string;
  senderId: string;
  seq: number;
  body: string;
  clientMessageId: string | null;
  createdAtMs: number;
  username: string;
  displayName: string;
  senderCreatedAtMs: number;
}

/** A sender's public fields as a User (from a joined row or an event payload). */
function senderUser(id: string, username: string, displayName: string, createdAt: Date): User {
  const sender = new User();
  sender.id = id;
  sender.username = username;
  sender.displayName = displayName;
  sender.createdAt = createdAt;
  return sender;
}

/** Builds the Message of a {@link MessageRow}, with its sender attached, and the sender. */
function withSender(row: MessageRow, conversationId: string): SentMessage & { sender: User } {
  const sender = senderUser(row.senderId, row.username, row.displayName, new Date(row.senderCreatedAtMs));
  const message = new Message();
  message.id = row.id;
  message.conversationId = conversationId;
  message.senderId = row.senderId;
  message.seq = row.seq;
  message.body = row.body;
  message.clientMessageId = row.clientMessageId;
  message.createdAt = new Date(row.createdAtMs);
  message.sender = sender;
  return { message, sender };
}

/**
 * The whole send in one statement (one round trip, one implicit transaction):
 * - `counter` takes the next seq from the conversation's counter row. Its row lock serializes
 *   concurrent senders of one conversation, and a failed INSERT (duplicate clientMessageId) rolls
 *   the counter back with it, so seqs are 1..N without gaps. Not a PostgreSQL sequence: those
 *   skip numbers on rollback. No row means the sender is not a participant (or no conversation).
 * - `receipt` moves the sender's own read position forward to the new message (the read-receipts
 *   rule: forward only). Its event is not published: each instance's `readReceipt` streams derive
 *   it from the message event (see ReadReceiptStreams), one Redis publish per send instead of two.
 * - the final SELECT returns the message with its sender's columns, so that the response needs
 *   no second query for `sender`.
 */
const INSERT_MESSAGE: Statement = {
  name: 'parley_send_message',
  text: `
  WITH counter AS (
    UPDATE conversations
       SET last_seq = last_seq + 1, last_activity_at = date_trunc('milliseconds', clock_timestamp())
     WHERE id = $1
       AND EXISTS (SELECT 1 FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2)
    RETURNING last_seq, last_activity_at
  ), message AS (
    INSERT INTO messages (conversation_id, sender_id, seq, body, client_message_id, created_at)
    SELECT $1, $2, counter.last_seq, $3, $4, counter.last_activity_at FROM counter
    RETURNING id, conversation_id, sender_id, seq, body, client_message_id, created_at
  ), receipt AS (
    INSERT INTO read_receipts (conversation_id, user_id, last_read_seq, read_at)
    SELECT conversation_id, sender_id, seq, created_at FROM message
    ON CONFLICT (conversation_id, user_id) DO UPDATE
       SET last_read_seq = EXCLUDED.last_read_seq, read_at = EXCLUDED.read_at
     WHERE read_receipts.last_read_seq < EXCLUDED.last_read_seq
  )
  SELECT ${MESSAGE_WITH_SENDER} FROM message m JOIN users u ON u.id = m.sender_id`,
};

/** Messages `m` matching `where`, with their senders, in seq order, at most `limit` (a placeholder such as `$2`). */
function selectMessages(where: string, order: 'ASC' | 'DESC', limit: string): string {
  return `SELECT ${MESSAGE_WITH_SENDER} FROM messages m JOIN users u ON u.id = m.sender_id
    WHERE ${where} ORDER BY m.seq ${order} LIMIT ${limit}`;
}

/** Replay and gap fill: messages after a seq, oldest first, with their senders. $1 conversation, $2 after seq, $3 limit. */
const RANGE: Statement = { name: 'parley_range', text: selectMessages('m.conversation_id = $1 AND m.seq > $2', 'ASC', '$3') };
/** {@link RANGE} up to a seq (inclusive), $4. */
const RANGE_UNTIL: Statement = {
  name: 'parley_range_until',
  text: selectMessages('m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $4', 'ASC', '$3'),
};

/**
 * The history page statement of one shape: newest or oldest first, from the start or after a
 * seq, with or without the membership check. Parameters: $1 conversation id, $2 row limit, then
 * the seq (if `after`), then the viewer id (if `member`).
 */
const pageStatements = new Map<string, Statement>();
function pageStatement(newestFirst: boolean, after: boolean, member: boolean): Statement {
  const name = `parley_history_${newestFirst ? 'desc' : 'asc'}${after ? '_after' : ''}${member ? '_member' : ''}`;
  let statement = pageStatements.get(name);
  if (!statement) {
    let where = 'm.conversation_id = $1';
    if (after) where += newestFirst ? ' AND m.seq < $3' : ' AND m.seq > $3';
    if (member) where += ` AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = $1 AND p.user_id = $${after ? 4 : 3})`;
    pageStatements.set(name, (statement = { name, text: selectMessages(where, newestFirst ? 'DESC' : 'ASC', '$2') }));
  }
  return statement;
}

/** A message just stored, with what the same statement learnt about its sender. */
export interface SentMessage {
  message: Message;
  /** The sender's row (null for an idempotent retry, answered from the store). */
  sender: User | null;
}

interface Inserted extends SentMessage {
  sender: User;
}

/** What `sendMessage` takes. */
export interface SendInput {
  conversationId?: string | null;
  participantIds?: string[] | null;
  body: string;
  clientMessageId?: string | null;
}

/** Rebuilds a {@link Message} from its pub/sub payload (ISO dates back to `Date`), with its sender attached if the payload has it. */
export function messageFromPayload(p: MessageAddedPayload): Message {
  const message = new Message();
  message.id = p.id;
  message.conversationId = p.conversationId;
  message.senderId = p.senderId;
  message.body = p.body;
  message.seq = p.seq;
  message.clientMessageId = p.clientMessageId;
  message.createdAt = new Date(p.createdAt);
  if (p.sender) message.sender = senderUser(p.senderId, p.sender.username, p.sender.displayName, new Date(p.sender.createdAt));
  return message;
}

function toPayload(m: Message): MessageAddedPayload {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    body: m.body,
    seq: m.seq,
    clientMessageId: m.clientMessageId,
    createdAt: m.createdAt.toISOString(),
    ...(m.sender
      ? { sender: { username: m.sender.username, displayName: m.sender.displayName, createdAt: m.sender.createdAt.toISOString() } }
      : {}),
  };
}

/** Sending messages and reading history. */
export class MessagesService {
  constructor(
    private readonly ds: DataSource,
    /** Runs the send and history statements (see src/db/prepared.ts). */
    private readonly sql: StatementRunner,
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
  ) {}

  /**
   * Stores a message and, after the commit, publishes it on its conversation's topic. With
   * `participantIds` the conversation is found or created in the same transaction. A retry with a
   * clientMessageId already used by this sender returns the stored message and publishes nothing.
   *
   * @throws DomainError BAD_USER_INPUT: not exactly one of conversationId/participantIds, a body
   *   that is blank or outside 1-4000 characters, a clientMessageId outside 1-64 characters;
   *   NOT_FOUND: no such conversation or participant; FORBIDDEN: the sender is not a participant;
   *   CONFLICT: the clientMessageId was used for a different message.
   */
  async send(senderId: string, input: SendInput): Promise<SentMessage> {
    const byId = input.conversationId != null;
    if (byId === (input.participantIds != null)) {
      throw badInput('give exactly one of conversationId or participantIds', 'conversationId');
    }
    const length = [...input.body].length;
    if (length < 1 || length > BODY_MAX || input.body.trim() === '') {
      throw badInput(`body must be 1-${BODY_MAX} characters and not blank`, 'body');
    }
    const clientMessageId = input.clientMessageId ?? null;
    if (clientMessageId !== null && (clientMessageId.length < 1 || clientMessageId.length > CLIENT_MESSAGE_ID_MAX)) {
      throw badInput(`clientMessageId must be 1-${CLIENT_MESSAGE_ID_MAX} characters`, 'clientMessageId');
    }

    let sent: Inserted;
    let created: ConversationResult | null = null;
    try {
      if (byId) {
        const conversationId = checkId(input.conversationId!, 'conversationId');
        const inserted = await this.insert(this.ds.manager, conversationId, senderId, input.body, clientMessageId);
        if (!inserted) {
          await this.conversations.requireParticipant(senderId, conversationId);
          throw new Error('insert matched no conversation, yet the sender is a participant');
        }
        sent = inserted;
      } else {
        const set = await this.conversations.participantSet(senderId, input.participantIds!);
        [sent, created] = await this.ds.transaction(async (tx) => {
          const result = await this.conversations.getOrCreateIn(tx, set, null);
          const inserted = await this.insert(tx, result.conversation.id, senderId, input.body, clientMessageId);
          return [inserted!, result] as const;
        });
      }
    } catch (err) {
      if (clientMessageId !== null && isUniqueViolation(err, 'messages_sender_client_message_id_key')) {
        return { message: await this.storedRetry(senderId, clientMessageId, input), sender: null };
      }
      throw err;
    }
    if (created?.created) await this.conversations.announce(created);
    await this.publish(sent.message);
    return { message: sent.message, sender: sent.sender };
  }

  /**
   * A page of a conversation's history for one of its participants, each message with its sender
   * attached (see {@link Message.sender}). One round trip: the membership check is part of the
   * page query; only an empty page asks again, to tell an empty page from a refusal.
   * @throws DomainError as {@link ConversationsService.requireParticipant} and {@link page}.
   */
  async list(
    viewerId: string,
    conversationId: string,
    args: { first: number; after?: string | null; order: MessageOrder },
  ): Promise<Page<Message>> {
    const id = checkId(conversationId, 'conversationId');
    const page = await this.readPage(id, args, viewerId);
    if (!page.items.length) await this.conversations.requireParticipant(viewerId, id);
    return page;
  }

  /**
   * A page of history by keyset on seq, without a membership check (the caller has made it),
   * each message with its sender attached.
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100 or a bad cursor.
   */
  page(conversationId: string, args: { first: number; after?: string | null; order: MessageOrder }): Promise<Page<Message>> {
    return this.readPage(conversationId, args, null);
  }

  /**
   * Messages of a conversation with `afterSeq < seq <= untilSeq`, oldest first, at most `limit`:
   * what a live subscription replays after a reconnect or fills a gap with, senders attached.
   */
  async range(conversationId: string, afterSeq: number, limit: number, untilSeq?: number): Promise<Message[]> {
    const rows =
      untilSeq === undefined
        ? await this.sql<MessageRow>(this.ds.manager, RANGE, [conversationId, afterSeq, limit])
        : await this.sql<MessageRow>(this.ds.manager, RANGE_UNTIL, [conversationId, afterSeq, limit, untilSeq]);
    return rows.map((row) => withSender(row, conversationId).message);
  }

  /** The opaque cursor of a message (its seq), valid in both orders. */
  cursorOf(m: Message): string {
    return encodeCursor(CURSOR, [m.seq]);
  }

  /**
   * The keyset page query in SQL: `first + 1` rows (for hasNextPage) joined with their senders,
   * and, given `viewerId`, only if the viewer is a participant (otherwise no rows).
   */
  private async readPage(
    conversationId: string,
    args: { first: number; after?: string | null; order: MessageOrder },
    viewerId: string | null,
  ): Promise<Page<Message>> {
    const first = checkFirst(args.first);
    const newestFirst = args.order !== MessageOrder.OLDEST_FIRST;
    const params: unknown[] = [conversationId, first + 1];
    if (args.after) params.push(decodeCursor<[number]>(args.after, CURSOR, ['number'])[0]);
    if (viewerId !== null) params.push(viewerId);
    const statement = pageStatement(newestFirst, Boolean(args.after), viewerId !== null);
    const rows = await this.sql<MessageRow>(this.ds.manager, statement, params);
    return toPage(rows.map((row) => withSender(row, conversationId).message), first);
  }

  private async insert(
    tx: EntityManager,
    conversationId: string,
    senderId: string,
    body: string,
    clientMessageId: string | null,
  ): Promise<Inserted | null> {
    const rows = await this.sql<MessageRow>(tx, INSERT_MESSAGE, [conversationId, senderId, body, clientMessageId]);
    return rows.length ? withSender(rows[0], conversationId) : null;
  }

  private async storedRetry(senderId: string, clientMessageId: string, input: SendInput): Promise<Message> {
    const stored = await this.ds.getRepository(Message).findOneByOrFail({ senderId, clientMessageId });
    const sameConversation =
      input.conversationId != null
        ? stored.conversationId === input.conversationId.toLowerCase()
        : (await this.conversations.participantSet(senderId, input.participantIds!)).ids.join() ===
          (await this.conversations.participantIdsOf(stored.conversationId)).join();
    if (!sameConversation || stored.body !== input.body) {
      throw conflict('clientMessageId was already used for a different message');
    }
    return stored;
  }

  private async publish(message: Message): Promise<void> {
    try {
      await this.bus.publish(topics.conversationMessages(message.conversationId), toPayload(message));
    } catch (err) {
      // The message is committed: a retry would be answered from the store and still not
      // published. Subscribers get it by seq when the next message of the conversation arrives
      // (gap fill) or when they resume with `after`.
      this.log.error({ err, messageId: message.id }, 'publishing a message failed');
    }
  }
}
