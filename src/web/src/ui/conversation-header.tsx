import type { Conversation } from '../chat/chat-store';
import { nameOf } from '../chat/receipts';
import { BlockButton } from './block-button';
import { useChat, useChatState } from './chat-context';
import { conversationTitle, PresenceDot, presenceText } from './conversation-list';
import { BackIcon } from './icons';

/**
 * The open conversation's bar: back (on a phone), its title, the other person's presence (direct)
 * or the participants (group), and Block / Unblock for the other person of a direct conversation.
 */
export function ConversationHeader({
  conversation: c,
  onBack,
  onError,
}: {
  conversation: Conversation | undefined;
  onBack: () => void;
  onError: (message: string) => void;
}) {
  const { session, capabilities } = useChat();
  const state = useChatState();
  const others = c?.participants.filter((p) => p.id !== session.user.id) ?? [];
  const other = c && !c.isGroup && others.length === 1 ? others[0] : null;
  const presence = other ? (state.presence.get(other.id) ?? other.presence) : null;
  return (
    <header className="bar">
      <button type="button" className="icon back" aria-label="Back to conversations" onClick={onBack}>
        <BackIcon />
      </button>
      <div className="heading">
        <h2>{c ? conversationTitle(c, session.user.id) : '…'}</h2>
        {presence ? (
          <span className="muted small">
            <PresenceDot presence={presence} /> {presenceText(presence)}
          </span>
        ) : (
          c && <span className="muted small">{c.participants.map(nameOf).join(', ')}</span>
        )}
      </div>
      {other && capabilities.blocking && <BlockButton user={other} onError={onError} />}
    </header>
  );
}
