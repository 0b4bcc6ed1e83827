import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventBus } from '../../pubsub/event-bus';
import type { ConversationJoinedPayload } from '../../pubsub/payloads';
import { topics } from '../../pubsub/topics';
import { badInput, forbidden, notFound } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import { checkFirst, decodeCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import { Conversation } from './conversation.entity';
import { Participant } from './participant.entity';

const CURSOR = 'conversation';
const TITLE_MAX = 100;

/** A validated participant set: sorted, de-duplicated ids, all of existing users, viewer included. */
export interface ParticipantSet {
  ids: string[];
  /** SHA-256 hex of the sorted ids: the conversation's identity. */
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
 * Conversations: identity by participant set, get-or-create, membership checks and the viewer's
 * list by recent activity.
 */
export class ConversationsService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly maxParticipants: number,
  ) {}

  /**
   * Validates a participant set and adds the viewer.
   * @throws DomainError BAD_USER_INPUT (field `participantIds`) for malformed ids, a set with no
   *   one but the viewer, or more than MAX_PARTICIPANTS; NOT_FOUND when a user does not exist.
   */
  async participantSet(viewerId: string, participantIds: readonly string[], field = 'participantIds'): Promise<ParticipantSet> {
    const ids = [...new Set([viewerId, ...participantIds.map((id) => checkId(id, field))])].sort();
    if (ids.length < 2) throw badInput('a conversation needs at least one participant besides you', field);
    if (ids.length > this.maxParticipants) {
      throw badInput(`a conversation has at most ${this.maxParticipants} participants`, field);
    }
    const found: Array<{ id: string }> = await this.ds.query('SELECT id FROM users WHERE id = ANY($1::uuid[])', [ids]);
    if (found.length !== ids.length) {
      const known = new Set(found.map((r) => r.id));
      throw notFound(`no user with id ${ids.filter((id) => !known.has(id)).join(', ')}`);
    }
    return { ids, key: createHash('sha256').update(ids.join(',')).digest('hex') };
  }

  /**
   * Gets the conversation of a participant set, creating it if there is none, inside the caller's
   * transaction. Race-free: the unique participant key makes concurrent creators wait for the
   * first and then read its row. The caller must {@link announce} a created conversation after
   * its commit.
   * @throws DomainError BAD_USER_INPUT (field `title`) for a blank title or one over 100 characters.
   */
  async getOrCreateIn(tx: EntityManager, set: ParticipantSet, title: string | null | undefined): Promise<ConversationResult> {
    if (title != null && (title.trim() === '' || title.length > TITLE_MAX)) {
      throw badInput(`title must be 1-${TITLE_MAX} characters and not blank`, 'title');
    }
    const inserted: Array<{ id: string }> = await tx.query(
      `INSERT INTO conversations (participant_key, is_group, title) VALUES ($1, $2, $3)
       ON CONFLICT (participant_key) DO NOTHING RETURNING id`,
      [set.key, set.ids.length > 2, title ?? null],
    );
    const created = inserted.length === 1;
    if (created) {
      await tx.query(
        `INSERT INTO conversation_participants (conversation_id, user_id) SELECT $1, unnest($2::uuid[])`,
        [inserted[0].id, set.ids],
      );
    }
    const conversation = await tx.getRepository(Conversation).findOneByOrFail({ participantKey: set.key });
    return { conversation, participantIds: set.ids, created };
  }

  /**
   * `startConversation`: get-or-create by participant set, the viewer added if missing.
   * @throws DomainError as {@link participantSet} and {@link getOrCreateIn}.
   */
  async start(viewerId: string, participantIds: readonly string[], title?: string | null): Promise<Conversation> {
    const set = await this.participantSet(viewerId, participantIds);
    const result = await this.ds.transaction((tx) => this.getOrCreateIn(tx, set, title));
    if (result.created) await this.announce(result);
    return result.conversation;
  }

  /**
   * Tells each participant's live subscriptions that a conversation including them exists, so
   * that `messageAdded` over all conversations starts following it. Call after commit.
   */
  async announce(result: ConversationResult): Promise<void> {
    const payload: ConversationJoinedPayload = { conversationId: result.conversation.id };
    try {
      await Promise.all(result.participantIds.map((id) => this.bus.publish(topics.userConversations(id), payload)));
    } catch (err) {
      // Committed already: the conversation exists and is listed; live subscribers pick it up on
      // their next reconnect. Failing the mutation now would invite a pointless retry.
      this.log.error({ err, conversationId: result.conversation.id }, 'announcing a conversation failed');
    }
  }

  /** The conversation if the viewer is one of its participants, else `null`. */
  /** @throws DomainError BAD_USER_INPUT (field `id`) for a malformed id. */
  async findForViewer(viewerId: string, id: string): Promise<Conversation | null> {
    return this.ds
      .getRepository(Conversation)
      .createQueryBuilder('c')
      .innerJoin(Participant, 'p', 'p.conversationId = c.id AND p.userId = :viewerId', { viewerId })
      .where('c.id = :id', { id: checkId(id, 'id') })
      .getOne();
  }

  /**
   * Checks that the viewer takes part in a conversation.
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND when the conversation does
   *   not exist; FORBIDDEN when the viewer is not a participant.
   */
  async requireParticipant(viewerId: string, conversationId: string, field = 'conversationId'): Promise<Conversation> {
    const id = checkId(conversationId, field);
    const conversation = await this.findForViewer(viewerId, id);
    if (conversation) return conversation;
    // The refusal path only: tell a missing conversation from someone else's.
    const exists = await this.ds.query('SELECT 1 FROM conversations WHERE id = $1', [id]);
    throw exists.length ? forbidden('you are not a participant of this conversation') : notFound('conversation not found');
  }

  /**
   * The viewer's conversations, most recent activity first (newest message, or creation).
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100 or a bad cursor.
   */
  async listForViewer(viewerId: string, args: { first: number; after?: string | null }): Promise<Page<Conversation>> {
    const first = checkFirst(args.first);
    const qb = this.ds
      .getRepository(Conversation)
      .createQueryBuilder('c')
      .innerJoin(Participant, 'p', 'p.conversationId = c.id AND p.userId = :viewerId', { viewerId });
    if (args.after) {
      const [at, id] = decodeCursor<[string, string]>(args.after, CURSOR, ['string', 'string']);
      if (Number.isNaN(Date.parse(at))) throw badInput('after is not a valid cursor', 'after');
      qb.where('(c.lastActivityAt, c.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', { at, id: checkId(id, 'after') });
    }
    const rows = await qb.orderBy('c.lastActivityAt', 'DESC').addOrderBy('c.id', 'DESC').limit(first + 1).getMany();
    return toPage(rows, first);
  }

  /** The opaque cursor of a conversation in {@link listForViewer}. */
  cursorOf(c: Conversation): string {
    return encodeCursor(CURSOR, [c.lastActivityAt.toISOString(), c.id]);
  }

  /** The participant ids of a conversation, sorted (empty for an unknown conversation). */
  async participantIdsOf(conversationId: string): Promise<string[]> {
    const rows: Array<{ user_id: string }> = await this.ds.query(
      'SELECT user_id FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id',
      [conversationId],
    );
    return rows.map((r) => r.user_id);
  }

  /** Ids and current last seq of every conversation of a user (to start a live subscription). */
  async positionsOf(userId: string): Promise<Array<{ id: string; lastSeq: number }>> {
    return this.ds.query(
      `SELECT c.id, c.last_seq AS "lastSeq" FROM conversation_participants p
       JOIN conversations c ON c.id = p.conversation_id WHERE p.user_id = $1`,
      [userId],
    );
  }
}
