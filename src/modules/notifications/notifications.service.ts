import type { NotifyConfig } from '../../config/config';
import type { Db } from '../../db/sql';
import { badInput } from '../../shared/errors';
import { checkFirst, decodeTimeIdCursor, encodeCursor, toPage, type Page } from '../../shared/pagination';
import type { ConversationsService } from '../conversations/conversations.service';
import { checkPushSubscription } from './push-endpoint';
import {
  countUnread,
  deletePushSubscription,
  markRead,
  selectNotificationPage,
  selectPreferences,
  setMuted,
  upsertPreference,
  upsertPushSubscription,
} from './notifications.sql';
import { NotifyWhen, type Notification, type NotificationPreferences } from './notifications.types';

const CURSOR = 'notification';
/** Most ids one `markNotificationsRead` takes. */
export const MARK_READ_MAX = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The viewer's side of notifications: listing, marking read, preferences, mutes and push subscriptions. */
export class NotificationsService {
  constructor(
    private readonly db: Db,
    private readonly conversations: ConversationsService,
    private readonly config: NotifyConfig,
  ) {}

  /**
   * The viewer's notifications, newest first (ties by id), and how many are unread.
   * @throws DomainError BAD_USER_INPUT for `first` outside 1..100 or a bad cursor.
   */
  async list(
    viewerId: string,
    args: { first: number; after?: string | null; unreadOnly: boolean },
  ): Promise<Page<Notification> & { unreadCount: number }> {
    const first = checkFirst(args.first);
    const after = args.after ? decodeTimeIdCursor(args.after, CURSOR) : undefined;
    const [rows, unreadCount] = await Promise.all([
      selectNotificationPage(this.db.sql, { userId: viewerId, limit: first + 1, unreadOnly: args.unreadOnly, after }),
      countUnread(this.db.sql, viewerId),
    ]);
    return { ...toPage(rows, first), unreadCount };
  }

  /** The opaque cursor of a notification: its creation time (ISO-8601) and id. */
  cursorOf(n: Notification): string {
    return encodeCursor(CURSOR, [n.createdAt.toISOString(), n.id]);
  }

  /**
   * Marks the viewer's notifications read: those of `ids`, or all for `null`. Unknown ids, malformed
   * ids and ids of others' notifications change nothing and reveal nothing.
   * @returns how many went from unread to read.
   * @throws DomainError BAD_USER_INPUT for more than 1000 ids.
   */
  markRead(viewerId: string, ids: readonly string[] | null): Promise<number> {
    if (ids === null) return markRead(this.db.sql, viewerId, null);
    if (ids.length > MARK_READ_MAX) throw badInput(`at most ${MARK_READ_MAX} ids`, 'ids');
    const valid = ids.filter((id) => UUID.test(id));
    return valid.length ? markRead(this.db.sql, viewerId, valid) : Promise.resolve(0);
  }

  /** The viewer's preference (WHEN_AWAY unless set) and muted conversations. */
  async preferences(viewerId: string): Promise<NotificationPreferences> {
    const stored = await selectPreferences(this.db.sql, viewerId);
    return { notifyWhen: stored.notifyWhen ?? NotifyWhen.WHEN_AWAY, mutedConversationIds: stored.mutedConversationIds };
  }

  /** Stores the given preferences (omitted or null ones unchanged). */
  async updatePreferences(
    viewerId: string,
    input: { notifyWhen?: NotifyWhen | null },
  ): Promise<NotificationPreferences> {
    if (input.notifyWhen != null) await upsertPreference(this.db.sql, viewerId, input.notifyWhen);
    return this.preferences(viewerId);
  }

  /**
   * Mutes or unmutes one of the viewer's conversations (idempotent).
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when the
   *   conversation does not exist / the viewer is not a participant.
   */
  async mute(viewerId: string, conversationId: string, muted: boolean): Promise<NotificationPreferences> {
    const { id } = await this.conversations.requireParticipant(viewerId, conversationId);
    await setMuted(this.db.sql, viewerId, id, muted);
    return this.preferences(viewerId);
  }

  /** The VAPID public key, or `null` when Web Push is not configured. */
  webPushPublicKey(): string | null {
    return this.config.vapid?.publicKey ?? null;
  }

  /**
   * Stores a Web Push subscription for the viewer (the same endpoint again takes the new keys).
   * @throws DomainError BAD_USER_INPUT as {@link checkPushSubscription}.
   */
  async registerPush(viewerId: string, s: { endpoint: string; p256dh: string; auth: string }): Promise<boolean> {
    await checkPushSubscription(s, {
      production: this.config.production,
      allowedHosts: this.config.webPushAllowedHosts,
    });
    await upsertPushSubscription(this.db.sql, viewerId, s);
    return true;
  }

  /** Removes one of the viewer's subscriptions. @returns false when the viewer had none with that endpoint. */
  unregisterPush(viewerId: string, endpoint: string): Promise<boolean> {
    return deletePushSubscription(this.db.sql, viewerId, endpoint);
  }
}
