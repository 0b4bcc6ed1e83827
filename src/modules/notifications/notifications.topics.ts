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

/**
 * {@link NotificationAddedPayload}s of one recipient, delivered on each instance from
 * {@link NOTIFICATION_BATCHES_TOPIC} (nothing is published on it across instances).
 */
export const userNotificationsTopic = (userId: string) => `user.${userId}.notifications`;

/**
 * Every notification stored, in batches (one per job: a message to a group of 1,000 is one
 * publish, not 999). Each instance hands the payloads to its local subscribers of
 * {@link userNotificationsTopic}; a recipient with none costs a map lookup.
 */
export const NOTIFICATION_BATCHES_TOPIC = 'notifications';

/** What {@link NOTIFICATION_BATCHES_TOPIC} carries. */
export interface NotificationBatchPayload {
  notifications: NotificationAddedPayload[];
}

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
