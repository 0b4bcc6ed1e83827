import { createHash } from 'node:crypto';
import type { Db, Sql } from '../../db/sql';
import type { EventBus, Unsubscribe } from '../../pubsub/event-bus';
import { badInput, forbidden, notFound } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import type { BlocksService } from '../safety/blocks.service';
import { setUpLoader } from '../../shared/loader';
import { checkFirst, decodeTimeIdCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import type { Conversation } from './conversation.entity';
import type { Participant } from './participant.entity';
import {
  conversationExists,
  insertConversationIfAbsent,
  insertParticipants,
  selectConversationByKey,
  selectConversationOfParticipant,
  selectConversationPage,
  selectConversationsByIds,
  selectExistingUserIds,
  selectLastSeqs,
  selectParticipantIds,
  selectParticipantsOf,
  selectPositionsOf,
} from './conversations.sql';
import {
  CONVERSATIONS_CREATED_TOPIC,
  userConversationsTopic,
  type ConversationCreatedPayload,
  type ConversationJoinedPayload,
} from './conversations.topics';

const CURSOR = 'conversation';
/** Most conversation ids in one statement of {@link ConversationsService.lastSeqsInBulk}. */
const BULK_IDS = 10_000;
/** Longest title, in UTF-16 code units. */
const TITLE_MAX = 100;

/** A validated participant set: sorted, de-duplicated ids, all of existing users, viewer included. */
export interface ParticipantSet {
  ids: string[];
  /** SHA-256 hex of the sorted ids, comma-joined: the conversation's identity. */
  key: string;
}

/** The outcome of get-or-create. */
export interface ConversationResult {
  conversation: Conversation;
  participantIds: string[];
  /** `true` when this call created it (and so must announce it after commit). */
  created: boolean;
}

/**
 * Told of each conversation created, after its commit, with who created it. The creating call
 * answers when every listener resolved: a listener does only quick work (an enqueue) and must
 * not throw (a rejection is logged).
 */
export type ConversationCreatedListener = (result: ConversationResult, creatorId: string) => Promise<void> | void;

/**
 * Conversations: identity by participant set, get-or-create, membership checks, the viewer's
 * list by recent activity, and the reads other modules and the loaders batch on. SQL in
 * conversations.sql.ts.
 */
export class ConversationsService {
  private readonly createdListeners: ConversationCreatedListener[] = [];
  /** {@link positionsOf} of the users asking within one set-up batch, in one statement. */
  private readonly positions = setUpLoader<string, Array<{ id: string; lastSeq: number }>>(async (userIds) => {
    const byUser = new Map<string, Array<{ id: string; lastSeq: number }>>(userIds.map((id) => [id, []]));
    for (const row of await selectPositionsOf(this.db.sql, userIds))
      byUser.get(row.userId)?.push({ id: row.id, lastSeq: row.lastSeq });
    return userIds.map((id) => byUser.get(id)!);
  });
  /** `last_seq` of the conversations asked for within one set-up batch, in one statement (`null`: no such conversation). */
  private readonly lastSeqs = setUpLoader<string, number | null>(async (ids) => {
    const byId = await this.lastSeqsInBulk(ids);
    return ids.map((id) => byId.get(id) ?? null);
  });

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly maxParticipants: number,
    private readonly blocks: BlocksService,
  ) {}

  /**
   * Validates a participant set and adds the viewer.
   * @param field - the argument named in errors.
   * @throws DomainError BAD_USER_INPUT (naming `field`) for malformed ids, a set with no one but
   *   the viewer, or more than MAX_PARTICIPANTS; NOT_FOUND when a user does not exist; FORBIDDEN
   *   for a direct conversation (two participants) with a user who blocks the viewer.
   */
  async participantSet(
    viewerId: string,
    participantIds: readonly string[],
    field = 'participantIds',
  ): Promise<ParticipantSet> {
    const ids = [...new Set([viewerId, ...participantIds.map((id) => checkId(id, field))])].sort();
    if (ids.length < 2) throw badInput('a conversation needs at least one participant besides you', field);
    if (ids.length > this.maxParticipants) {
      throw badInput(`a conversation has at most ${this.maxParticipants} participants`, field);
    }
    const found = await selectExistingUserIds(this.db.sql, ids);
    if (found.length !== ids.length) {
      const known = new Set(found);
      throw notFound(`no user with id ${ids.filter((id) => !known.has(id)).join(', ')}`);
    }
    await this.blocks.requireDirectAllowed(ids, viewerId);
    return { ids, key: createHash('sha256').update(ids.join(',')).digest('hex') };
  }

  /**
   * Gets the conversation of a participant set, creating it if there is none, inside the caller's
   * transaction (`sql` is the transaction's). Race-free: the unique participant key makes
   * concurrent creators wait for the first and then read its row. The caller must
   * {@link announce} a created conversation after its commit.
   * @throws DomainError BAD_USER_INPUT (field `title`) for a blank title or one over 100 characters.
   */
  async getOrCreateIn(sql: Sql, set: ParticipantSet, title: string | null | undefined): Promise<ConversationResult> {
    if (title != null && (title.trim() === '' || title.length > TITLE_MAX)) {
      throw badInput(`title must be 1-${TITLE_MAX} characters and not blank`, 'title');
    }
    const insertedId = await insertConversationIfAbsent(sql, {
      participantKey: set.key,
      isGroup: set.ids.length > 2,
      title: title ?? null,
    });
    const created = insertedId !== null;
    if (created) await insertParticipants(sql, insertedId, set.ids);
    const conversation = await selectConversationByKey(sql, set.key);
    if (!conversation) throw new Error('get-or-create found no conversation with the participant key');
    return { conversation, participantIds: set.ids, created };
  }

  /**
   * `startConversation`: get-or-create by participant set, the viewer added if missing.
   * @throws DomainError as {@link participantSet} and {@link getOrCreateIn}.
   */
  async start(viewerId: string, participantIds: readonly string[], title?: string | null): Promise<Conversation> {
    const set = await this.participantSet(viewerId, participantIds);
    const result = await this.db.transaction((tx) => this.getOrCreateIn(tx, set, title));
    if (result.created) await this.announce(result, viewerId);
    return result.conversation;
  }

  /**
   * Hands each conversation created, on any instance, to this instance's subscribers of its
   * participants' {@link userConversationsTopic}s, while started.
   * @returns stops it.
   */
  relayCreated(): Promise<Unsubscribe> {
    return this.bus.subscribe<ConversationCreatedPayload>(CONVERSATIONS_CREATED_TOPIC, (created) => {
      const joined: ConversationJoinedPayload = { conversationId: created.conversationId };
      for (const id of created.participantIds) this.bus.deliverLocally(userConversationsTopic(id), joined);
    });
  }

  /** Adds a listener told of every conversation created, after its announcement (see {@link ConversationCreatedListener}). */
  onCreated(listener: ConversationCreatedListener): void {
    this.createdListeners.push(listener);
  }

  /**
   * Tells each participant's live subscriptions that a conversation including them exists (one
   * {@link ConversationCreatedPayload} for all of them, which every instance hands to each user's
   * conversations topic: {@link relayCreated}), so that streams over all conversations start
   * following it, then tells the {@link onCreated} listeners. Call after commit; a failed publish
   * is logged, not thrown.
   * @param creatorId - who created it.
   */
  async announce(result: ConversationResult, creatorId: string): Promise<void> {
    const payload: ConversationCreatedPayload = {
      conversationId: result.conversation.id,
      participantIds: result.participantIds,
    };
    try {
      await this.bus.publish(CONVERSATIONS_CREATED_TOPIC, payload);
    } catch (err) {
      // Committed already: the conversation exists and is listed; live subscribers pick it up on
      // their next reconnect. Failing the mutation now would invite a pointless retry.
      this.log.error({ err, conversationId: result.conversation.id }, 'announcing a conversation failed');
    }
    await Promise.all(
      this.createdListeners.map(async (listener) => {
        try {
          await listener(result, creatorId);
        } catch (err) {
          this.log.error({ err, conversationId: result.conversation.id }, 'a conversation-created listener failed');
        }
      }),
    );
  }

  /**
   * The conversation if the viewer is one of its participants, else `null`.
   * @throws DomainError BAD_USER_INPUT (field `id`) for a malformed id.
   */
  findForViewer(viewerId: string, id: string): Promise<Conversation | null> {
    return selectConversationOfParticipant(this.db.sql, checkId(id, 'id'), viewerId);
  }

  /**
   * Checks that the viewer takes part in a conversation.
   * @param field - the argument named in errors.
   * @returns the conversation.
   * @throws DomainError BAD_USER_INPUT (naming `field`) for a malformed id; NOT_FOUND when the
   *   conversation does not exist; FORBIDDEN when the viewer is not a participant.
   */
  async requireParticipant(viewerId: string, conversationId: string, field = 'conversationId'): Promise<Conversation> {
    const id = checkId(conversationId, field);
    const conversation = await this.findForViewer(viewerId, id);
    if (conversation) return conversation;
    // The refusal path only: tell a missing conversation from someone else's.
    throw (await conversationExists(this.db.sql, id))
      ? forbidden('you are not a participant of this conversation')
      : notFound('conversation not found');
  }

  /**
   * The viewer's conversations, most recent activity first (newest message, or creation).
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100 or a bad cursor.
   */
  async listForViewer(viewerId: string, args: { first: number; after?: string | null }): Promise<Page<Conversation>> {
    const first = checkFirst(args.first);
    const after = args.after ? decodeTimeIdCursor(args.after, CURSOR) : undefined;
    const rows = await selectConversationPage(this.db.sql, { userId: viewerId, limit: first + 1, after });
    return toPage(rows, first);
  }

  /** The opaque cursor of a conversation in {@link listForViewer}: its last activity (ISO-8601) and id. */
  cursorOf(c: Conversation): string {
    return encodeCursor(CURSOR, [c.lastActivityAt.toISOString(), c.id]);
  }

  /** The participant ids of a conversation, sorted (empty for an unknown conversation). */
  participantIdsOf(conversationId: string): Promise<string[]> {
    return selectParticipantIds(this.db.sql, conversationId);
  }

  /**
   * Ids and current last seq of every conversation of a user (to start a live subscription).
   * The users asking within one set-up batch (SET_UP_LINGER_MS) are read in one statement.
   */
  positionsOf(userId: string): Promise<Array<{ id: string; lastSeq: number }>> {
    return this.positions.load(userId);
  }

  /**
   * `last_seq` by conversation id for the known ones among `ids` (none for no ids). The ids asked
   * for within one set-up batch (SET_UP_LINGER_MS), by every caller, are read in one statement.
   */
  async lastSeqsOf(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const seqs = await this.lastSeqs.loadMany(ids);
    const out = new Map<string, number>();
    seqs.forEach((seq, i) => {
      if (seq instanceof Error) throw seq;
      if (seq !== null) out.set(ids[i], seq);
    });
    return out;
  }

  /**
   * `last_seq` by conversation id for the known ones among `ids`, without the loader: one
   * statement per {@link BULK_IDS} ids, for one caller asking for many at once (the messages tail
   * check, over every subscribed conversation), where a promise per id would cost more than
   * merging with other callers saves.
   */
  async lastSeqsInBulk(ids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let from = 0; from < ids.length; from += BULK_IDS) {
      for (const row of await selectLastSeqs(this.db.sql, ids.slice(from, from + BULK_IDS)))
        out.set(row.id, row.last_seq);
    }
    return out;
  }

  /** The conversations among `ids`, unknown ones missing, in no particular order (the conversation loader). */
  byIds(ids: readonly string[]): Promise<Conversation[]> {
    return selectConversationsByIds(this.db.sql, ids);
  }

  /** The participant rows of the conversations among `conversationIds`, sorted by user id (the participants loader). */
  participantsOf(conversationIds: readonly string[]): Promise<Participant[]> {
    return selectParticipantsOf(this.db.sql, conversationIds);
  }
}
