import { useEffect, useState } from 'react';
import {
  addNotifications,
  emptyNotifications,
  markNotificationsRead,
  unreadOf,
  type Notification,
  type NotificationList,
} from '../chat/notifications';
import { nameOf } from '../chat/receipts';
import {
  WebMarkNotificationsReadDocument,
  WebNotificationAddedDocument,
  WebNotificationsDocument,
} from '../gql/generated';
import { useChat } from './chat-context';
import { BellIcon } from './icons';
import { useLive } from './use-live';
import { useVisible } from './use-clock';

/** Notifications read at start (the newest). */
const FIRST = 20;

/**
 * The bell: a button named "Notifications" with the unread count (kept live by
 * `notificationAdded`) that opens the list. Choosing a notification opens its conversation; the
 * unread notifications of the open conversation are marked read while the page is visible.
 */
export function NotificationBell({ openId, onOpen }: { openId: string | null; onOpen: (id: string) => void }) {
  const { connection } = useChat();
  const [list, setList] = useState<NotificationList>(emptyNotifications);
  const [shown, setShown] = useState(false);
  const visible = useVisible();

  useEffect(() => {
    void connection.urql
      .query(WebNotificationsDocument, { first: FIRST })
      .toPromise()
      .then((r) => {
        const page = r.data?.notifications;
        if (page)
          setList((l) =>
            addNotifications(
              l,
              page.edges.map((e) => e.node),
              page.unreadCount,
            ),
          );
      });
  }, [connection]);
  useLive(WebNotificationAddedDocument, {}, (e) => setList((l) => addNotifications(l, [e.notificationAdded])));

  // What the viewer has in front of them is read.
  const unreadHere = openId && visible ? unreadOf(list, openId) : [];
  const key = unreadHere.join();
  useEffect(() => {
    if (!key) return;
    const ids = key.split(',');
    setList((l) => markNotificationsRead(l, ids, new Date().toISOString()));
    void connection.urql.mutation(WebMarkNotificationsReadDocument, { ids }).toPromise();
  }, [key, connection]);

  const count = list.unreadCount;
  return (
    <>
      <button
        type="button"
        className="icon bell"
        aria-label={count > 0 ? `Notifications, ${count} unread` : 'Notifications'}
        aria-expanded={shown}
        onClick={() => setShown(!shown)}
      >
        <BellIcon />
        {count > 0 && (
          <span className="badge" aria-hidden="true">
            {count > 99 ? '99+' : count}
          </span>
        )}
      </button>
      {shown && (
        <section className="panel notifications">
          {list.items.length === 0 ? (
            <p className="muted small">Nothing new.</p>
          ) : (
            <ul aria-label="Notification list">
              {list.items.map((n) => (
                <li key={n.id}>
                  <button
                    type="button"
                    className={n.readAt ? 'notification' : 'notification unread'}
                    onClick={() => {
                      setShown(false);
                      onOpen(n.conversationId);
                    }}
                  >
                    {describe(n)}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </>
  );
}

/** A notification in words: "Alice: lunch?" or "You were added to a conversation". */
function describe(n: Notification): string {
  if (n.kind === 'NEW_MESSAGE' && n.message) return `${nameOf(n.message.sender)}: ${n.message.body}`;
  return 'You were added to a conversation';
}
