import type { WebNotificationFragment } from '../gql/generated';

/** A notification as the bell lists it. */
export type Notification = WebNotificationFragment;

/** The bell's state: newest first, each id once, and how many are unread on the server. */
export interface NotificationList {
  readonly items: readonly Notification[];
  readonly unreadCount: number;
}

export const emptyNotifications: NotificationList = { items: [], unreadCount: 0 };

/** Most notifications the bell keeps; older ones stay on the server. */
export const KEPT = 50;

/**
 * Adds notifications (a first page, a live `notificationAdded`): an id already held is not
 * counted twice, the list stays newest first and at most {@link KEPT} long.
 * @param unreadCount - the server's count when a page brings it; else each new unread one adds 1
 */
export function addNotifications(
  list: NotificationList,
  incoming: readonly Notification[],
  unreadCount?: number,
): NotificationList {
  const held = new Set(list.items.map((n) => n.id));
  const fresh = incoming.filter((n) => !held.has(n.id));
  if (fresh.length === 0 && unreadCount === undefined) return list;
  const items = [...fresh, ...list.items]
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, KEPT);
  return {
    items,
    unreadCount: unreadCount ?? list.unreadCount + fresh.filter((n) => !n.readAt).length,
  };
}

/** The unread notifications of one conversation (to mark read when it is opened). */
export function unreadOf(list: NotificationList, conversationId: string): string[] {
  return list.items.filter((n) => !n.readAt && n.conversationId === conversationId).map((n) => n.id);
}

/** Marks `ids` read at `at` (ISO); the unread count drops by as many as were unread. */
export function markNotificationsRead(list: NotificationList, ids: readonly string[], at: string): NotificationList {
  const marking = new Set(ids);
  let changed = 0;
  const items = list.items.map((n) => {
    if (n.readAt || !marking.has(n.id)) return n;
    changed++;
    return { ...n, readAt: at };
  });
  if (changed === 0) return list;
  return { items, unreadCount: Math.max(0, list.unreadCount - changed) };
}
