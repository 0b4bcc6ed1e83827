import type { Db } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import { DomainError, badInput, notFound } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import type { Logger } from '../../shared/logger';
import {
  deleteBlock,
  insertBlock,
  selectBlockedIds,
  selectBlockersAmong,
  selectBlockingPairs,
  userExists,
} from './blocks.sql';
import { userBlocksTopic, type BlockChangedPayload } from './blocks.topics';

/**
 * Blocking ([safety]): who blocks whom, kept in `user_blocks`. Other modules ask it before letting
 * one user reach another directly (direct conversations, typing, notifications); group
 * conversations are not affected. A change is published on the blocker's {@link userBlocksTopic}
 * after commit, so that the blocker's live streams apply it at once.
 */
export class BlocksService {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * `viewerId` blocks `userId`; blocking twice is a no-op.
   * @throws DomainError BAD_USER_INPUT (field `userId`) for a malformed id or the viewer's own;
   *   NOT_FOUND when there is no such user.
   */
  async block(viewerId: string, userId: string): Promise<void> {
    const id = checkId(userId, 'userId');
    if (id === viewerId) throw badInput('you cannot block yourself', 'userId');
    if (!(await insertBlock(this.db.sql, viewerId, id))) throw notFound(`no user with id ${id}`);
    await this.announce(viewerId, { blockedId: id, blocked: true });
  }

  /**
   * `viewerId` unblocks `userId`; unblocking a user not blocked is a no-op.
   * @throws DomainError BAD_USER_INPUT (field `userId`) for a malformed id; NOT_FOUND when there is no such user.
   */
  async unblock(viewerId: string, userId: string): Promise<void> {
    const id = checkId(userId, 'userId');
    if (!(await deleteBlock(this.db.sql, viewerId, id))) {
      if (id !== viewerId && !(await userExists(this.db.sql, id))) throw notFound(`no user with id ${id}`);
      return;
    }
    await this.announce(viewerId, { blockedId: id, blocked: false });
  }

  /** The ids of the users `viewerId` blocks, most recently blocked first. */
  blockedBy(viewerId: string): Promise<string[]> {
    return selectBlockedIds(this.db.sql, viewerId);
  }

  /** Which of `userIds` block `senderId` (the notifications module skips them). */
  async blockersAmong(userIds: readonly string[], senderId: string): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return new Set(await selectBlockersAmong(this.db.sql, userIds, senderId));
  }

  /**
   * Which of the pairs (`blockerIds[i]`, `blockedIds[i]`) are blocks, in one query (a batch of
   * notifications: recipients against senders). @returns `blocker:blocked` strings.
   */
  async blockingPairs(blockerIds: readonly string[], blockedIds: readonly string[]): Promise<Set<string>> {
    if (blockerIds.length === 0) return new Set();
    return new Set(await selectBlockingPairs(this.db.sql, blockerIds, blockedIds));
  }

  /**
   * Refuses a direct conversation (two participants) whose other participant blocks the sender.
   * Groups pass. The answer does not say who blocks whom.
   * @throws DomainError FORBIDDEN (`extensions.reason` CANNOT_MESSAGE_USER)
   */
  async requireDirectAllowed(participantIds: readonly string[], senderId: string): Promise<void> {
    if (participantIds.length !== 2) return;
    const other = participantIds[0] === senderId ? participantIds[1] : participantIds[0];
    if ((await this.blockersAmong([other], senderId)).size > 0) throw cannotReach();
  }

  private async announce(blockerId: string, payload: BlockChangedPayload): Promise<void> {
    try {
      await this.bus.publish(userBlocksTopic(blockerId), payload);
    } catch (err) {
      // Committed: live streams pick the change up when they are next opened.
      this.log.error({ err, blockerId }, 'announcing a block change failed');
    }
  }
}

/** `extensions.reason` of {@link cannotReach}: a client tells it from "not a participant" by it. */
export const CANNOT_REACH_REASON = 'CANNOT_MESSAGE_USER';

/**
 * The one answer for a blocked direct reach: FORBIDDEN, `extensions.reason` CANNOT_MESSAGE_USER;
 * it does not say who blocked whom.
 */
export const cannotReach = (): DomainError =>
  new DomainError('FORBIDDEN', 'you cannot message this user', { reason: CANNOT_REACH_REASON });
