import { Notification, type NotificationKind } from './notifications.types';

/** A notification just stored, as published to its recipient's topic (JSON-safe). */
export interface NotificationAddedPayload {
  id: string;
  recipientId: string;
  kind: NotificationKind;
  conversationId: string;
  messageId: string | null;
  /** ISO-8601 */
  createdAt: string;
}

/** {@link NotificationAddedPayload}s of one recipient. */
export const userNotificationsTopic = (userId: string) => `user.${userId}.notifications`;

/** The payload of a stored notification. */
export const toNotificationPayload = (n: Notification, recipientId: string): NotificationAddedPayload => ({
  id: n.id,
  recipientId,
  kind: n.kind,
  conversationId: n.conversationId,
  messageId: n.messageId,
  createdAt: n.createdAt.toISOString(),
});

/** The notification of a payload (unread: it was just stored). */
export const fromNotificationPayload = (p: NotificationAddedPayload): Notification =>
  Object.assign(new Notification(), {
    id: p.id,
    kind: p.kind,
    conversationId: p.conversationId,
    messageId: p.messageId,
    createdAt: new Date(p.createdAt),
    readAt: null,
  });
