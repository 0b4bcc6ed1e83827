import { isUniqueViolation } from '../../db/errors';
import type { Db, Sql } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import { badInput, conflict } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import { turnBatchedLoader } from '../../shared/loader';
import { checkFirst, decodeCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import type { ConversationResult, ConversationsService } from '../conversations/conversations.service';
import type { User } from '../users/user.entity';
import { cannotReach } from '../safety/blocks.service';
import type { Message } from './message.entity';
import {
  insertMessage,
  selectByClientMessageId,
  selectLastMessages,
  selectMessagesByIds,
  selectPage,
  selectRanges,
  type RangeRequest,
} from './messages.sql';
import { conversationMessagesTopic, toMessagePayload } from './messages.topics';
import { MessageOrder } from './messages.types';

const CURSOR = 'message';
/** Longest body, in characters (Unicode code points). */
export const BODY_MAX = 4000;
/** Longest clientMessageId, in characters. */
export const CLIENT_MESSAGE_ID_MAX = 64;

/** A message just stored, with what the same statement learnt about its sender. */
export interface SentMessage {
  message: Message;
  /** The sender's row (null for an idempotent retry, answered from the store). */
  sender: User | null;
}

/** What `sendMessage` takes. */
export interface SendInput {
  conversationId?: string | null;
  participantIds?: string[] | null;
  body: string;
  clientMessageId?: string | null;
}

/** Arguments of a history page. */
export interface PageArgs {
  first: number;
  after?: string | null;
  order: MessageOrder;
}

/**
 * Told of each message once it is committed and published (not of an idempotent retry). The send
 * answers when every listener resolved: a listener does only quick work (an enqueue) and must
 * not throw (a rejection is logged).
 */
export type MessageCommittedListener = (message: Message & { sender: User }) => Promise<void> | void;

/** Sending messages and reading history. */
export class MessagesService {
  private readonly committedListeners: MessageCommittedListener[] = [];
  /**
   * The ranges asked for in one event-loop turn (a reconnect storm's replays), in one statement. Not
   * SET_UP_LINGER_MS: a gap fill during live delivery reads here too.
   */
  private readonly ranges = turnBatchedLoader<RangeRequest, Message[]>(
    (ranges) => selectRanges(this.db.sql, ranges),
    500,
  );

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
    /** Told of each message stored by {@link send} (the messages-sent counter). */
    private readonly onSent: () => void = () => undefined,
  ) {}

  /**
   * Stores a message and, after the commit, publishes it on its conversation's topic. With
   * `participantIds` the conversation is found or created in the same transaction. A retry with a
   * clientMessageId already used by this sender returns the stored message and publishes nothing.
   *
   * @throws DomainError BAD_USER_INPUT: not exactly one of conversationId/participantIds, a body
   *   that is blank or outside 1-4000 characters, a clientMessageId outside 1-64 characters;
   *   NOT_FOUND: no such conversation or participant; FORBIDDEN: the sender is not a participant,
   *   or the conversation is direct and the other participant blocks the sender;
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

    let sent: Message & { sender: User };
    let created: ConversationResult | null = null;
    try {
      if (byId) {
        const conversationId = checkId(input.conversationId!, 'conversationId');
        const inserted = await insertMessage(this.db.sql, {
          conversationId,
          senderId,
          body: input.body,
          clientMessageId,
        });
        if (!inserted) {
          const conversation = await this.conversations.requireParticipant(senderId, conversationId);
          // A participant refused: the conversation is direct and the other participant blocks the sender.
          if (!conversation.isGroup) throw cannotReach();
          throw new Error('insert matched no conversation, yet the sender is a participant');
        }
        sent = inserted;
      } else {
        const set = await this.conversations.participantSet(senderId, input.participantIds!);
        [sent, created] = await this.db.transaction(async (tx: Sql) => {
          const result = await this.conversations.getOrCreateIn(tx, set, null);
          const inserted = await insertMessage(tx, {
            conversationId: result.conversation.id,
            senderId,
            body: input.body,
            clientMessageId,
          });
          return [inserted!, result] as const;
        });
      }
    } catch (err) {
      if (clientMessageId !== null && isUniqueViolation(err, 'messages_sender_client_message_id_key')) {
        return { message: await this.storedRetry(senderId, clientMessageId, input), sender: null };
      }
      throw err;
    }
    this.onSent();
    if (created?.created) await this.conversations.announce(created, senderId);
    await this.publish(sent);
    if (this.committedListeners.length) await this.tellCommitted(sent);
    return { message: sent, sender: sent.sender };
  }

  /** Adds a listener told of every new message after its commit and publish (see {@link MessageCommittedListener}). */
  onCommitted(listener: MessageCommittedListener): void {
    this.committedListeners.push(listener);
  }

  /**
   * A page of a conversation's history for one of its participants, senders attached. One round
   * trip: the membership check is part of the page query; only an empty page asks again, to tell
   * an empty page from a refusal.
   * @throws DomainError as {@link ConversationsService.requireParticipant} and {@link page}.
   */
  async list(viewerId: string, conversationId: string, args: PageArgs): Promise<Page<Message>> {
    const id = checkId(conversationId, 'conversationId');
    const page = await this.readPage(id, args, viewerId);
    if (!page.items.length) await this.conversations.requireParticipant(viewerId, id);
    return page;
  }

  /**
   * A page of history by keyset on seq, without a membership check (the caller has made it).
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100 or a bad cursor.
   */
  page(conversationId: string, args: PageArgs): Promise<Page<Message>> {
    return this.readPage(conversationId, args, undefined);
  }

  /**
   * Messages of a conversation with `afterSeq < seq <= untilSeq`, oldest first, at most `limit`:
   * what a live subscription replays after a reconnect or fills a gap with, senders attached.
   */
  range(conversationId: string, afterSeq: number, limit: number, untilSeq?: number): Promise<Message[]> {
    return this.ranges.load({ conversationId, afterSeq, limit, untilSeq });
  }

  /** The newest message of each conversation, senders attached (empty conversations have none). */
  lastMessagesOf(conversationIds: readonly string[]): Promise<Message[]> {
    return selectLastMessages(this.db.sql, conversationIds);
  }

  /** The messages among `ids`, senders attached, unknown ones missing, in no particular order (no membership check). */
  byIds(ids: readonly string[]): Promise<Message[]> {
    return selectMessagesByIds(this.db.sql, ids);
  }

  /** The opaque cursor of a message (its seq), valid in both orders. */
  cursorOf(m: Message): string {
    return encodeCursor(CURSOR, [m.seq]);
  }

  /** `first + 1` rows (for hasNextPage); given `viewerId`, none unless the viewer is a participant. */
  private async readPage(conversationId: string, args: PageArgs, viewerId: string | undefined): Promise<Page<Message>> {
    const first = checkFirst(args.first);
    const afterSeq = args.after ? decodeCursor<[number]>(args.after, CURSOR, ['number'])[0] : undefined;
    const newestFirst = args.order !== MessageOrder.OLDEST_FIRST;
    const rows = await selectPage(this.db.sql, { conversationId, limit: first + 1, newestFirst, afterSeq, viewerId });
    return toPage(rows, first);
  }

  private async storedRetry(senderId: string, clientMessageId: string, input: SendInput): Promise<Message> {
    const stored = await selectByClientMessageId(this.db.sql, senderId, clientMessageId);
    if (!stored) throw new Error('clientMessageId conflicted, yet no stored message has it');
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

  private async tellCommitted(message: Message & { sender: User }): Promise<void> {
    await Promise.all(
      this.committedListeners.map(async (listener) => {
        try {
          await listener(message);
        } catch (err) {
          this.log.error({ err, messageId: message.id }, 'a message-committed listener failed');
        }
      }),
    );
  }

  private async publish(message: Message): Promise<void> {
    try {
      await this.bus.publish(conversationMessagesTopic(message.conversationId), toMessagePayload(message));
    } catch (err) {
      // The message is committed: a retry would be answered from the store and still not
      // published. Subscribers get it by seq from the tail check (message-tail-check.ts), when
      // the next message of the conversation arrives (gap fill) or when they resume with `after`.
      this.log.warn({ err, messageId: message.id }, 'publishing a message failed');
    }
  }
}
