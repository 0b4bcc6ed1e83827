import type { Conversation } from '../chat/chat-store';
import { nameOf } from '../chat/receipts';
import type { WebPresenceFragment } from '../gql/generated';
import { useChat, useChatState } from './chat-context';

/** The viewer's conversations, most recent activity first: title, last message, unread count, presence. */
export function ConversationList({ openId, onOpen }: { openId: string | null; onOpen: (id: string) => void }) {
  const { session } = useChat();
  const state = useChatState();
  return (
    <ul className="conversations" aria-label="Conversations">
      {state.order.map((id) => {
        const c = state.conversations.get(id)!;
        const others = c.participants.filter((p) => p.id !== session.user.id);
        const presence = others.length === 1 ? (state.presence.get(others[0].id) ?? others[0].presence) : null;
        const unread = id === openId ? 0 : c.unreadCount;
        return (
          <li key={id}>
            <button
              type="button"
              className="conversation"
              aria-current={id === openId ? 'true' : undefined}
              onClick={() => onOpen(id)}
            >
              <span className="title-row">
                {presence && <PresenceDot presence={presence} />}
                <span className="title">{conversationTitle(c, session.user.id)}</span>
                {unread > 0 && (
                  <span className="badge" aria-label={`${unread} unread`}>
                    {unread}
                  </span>
                )}
              </span>
              <span className="preview muted">
                {c.lastMessage
                  ? `${c.lastMessage.sender.id === session.user.id ? 'You' : nameOf(c.lastMessage.sender)}: ${c.lastMessage.body}`
                  : 'No messages yet'}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** A conversation's title: its own, else the other participants' names. */
export function conversationTitle(c: Conversation, viewerId: string): string {
  if (c.title) return c.title;
  const others = c.participants.filter((p) => p.id !== viewerId).map(nameOf);
  return others.length ? others.join(', ') : 'Just you';
}

/** A dot for online (green), away (amber) or offline (grey), named for screen readers. */
export function PresenceDot({ presence }: { presence: WebPresenceFragment }) {
  const label = presence.status === 'ONLINE' ? 'online' : presence.status === 'AWAY' ? 'away' : 'offline';
  return <span className={`dot ${label}`} role="img" aria-label={label} />;
}

/** "online", "away", or "last seen <time>". */
export function presenceText(p: WebPresenceFragment): string {
  if (p.status === 'ONLINE') return 'online';
  if (p.status === 'AWAY') return 'away';
  if (!p.lastSeenAt) return 'offline';
  const at = new Date(p.lastSeenAt);
  const sameDay = at.toDateString() === new Date().toDateString();
  return `last seen ${sameDay ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : at.toLocaleString()}`;
}
