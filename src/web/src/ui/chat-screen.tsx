import { useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { connect, followMessages } from '../api/connection';
import type { Session } from '../api/session';
import { loadCapabilities, NO_CAPABILITIES, type Capabilities } from '../capabilities';
import { ChatStore } from '../chat/chat-store';
import { isUnauthenticated } from '../chat/errors';
import { nameOf } from '../chat/receipts';
import {
  WebConversationDocument,
  WebConversationsDocument,
  WebLogoutDocument,
  WebPresenceChangedDocument,
  WebReadReceiptDocument,
} from '../gql/generated';
import { ChatContext, useChat, useChatState, type Chat } from './chat-context';
import { ConversationList } from './conversation-list';
import { ConversationView } from './conversation-view';
import { BlockedPeople } from './blocked-people';
import { LogoutIcon } from './icons';
import { NewConversation } from './new-conversation';
import { NotificationBell } from './notification-bell';
import { useLive } from './use-live';
import { useOpenConversation } from './use-route';

/** Conversations read at start; more arrive as they become active. */
const FIRST_CONVERSATIONS = 50;

/**
 * The chat of a logged-in user: one store and one connection for the session, the conversation
 * list beside the open conversation (one or the other on a narrow screen).
 */
export function ChatScreen({
  session,
  onLogout,
  onExpired,
}: {
  session: Session;
  onLogout: () => void;
  onExpired: () => void;
}) {
  const store = useMemo(() => new ChatStore(session.user.id), [session.user.id]);
  const [connection, setConnection] = useState<Chat['connection'] | null>(null);
  const [capabilities, setCapabilities] = useState<Capabilities>(NO_CAPABILITIES);

  useEffect(() => {
    const c = connect(session.token, store, onExpired);
    const loadConversation = (id: string) =>
      void c.urql
        .query(WebConversationDocument, { id })
        .toPromise()
        .then((r) => r.data?.conversation && store.upsertConversations([r.data.conversation]));
    let stopFollowing: (() => void) | null = null;
    void c.urql
      .query(WebConversationsDocument, { first: FIRST_CONVERSATIONS })
      .toPromise()
      .then((r) => {
        if (r.error && isUnauthenticated(r.error)) return onExpired();
        store.upsertConversations(r.data?.conversations.edges.map((e) => e.node) ?? []);
        // After the list: the subscription starts from the positions the list gave.
        stopFollowing = followMessages(c.ws, store, loadConversation);
      });
    void loadCapabilities(c.urql).then(setCapabilities, () => undefined);
    setConnection(c);
    return () => {
      stopFollowing?.();
      c.dispose();
    };
  }, [session.token, store, onExpired]);

  if (!connection) return null;
  return (
    <ChatContext.Provider value={{ store, connection, session, capabilities, expired: onExpired }}>
      <Provider value={connection.urql}>
        <Live />
        <Layout onLogout={onLogout} />
      </Provider>
    </ChatContext.Provider>
  );
}

/** The subscriptions every screen needs besides messages: read receipts and presence. */
function Live() {
  const { store } = useChat();
  useLive(WebReadReceiptDocument, {}, (e) => store.addReceipt(e.readReceipt));
  useLive(WebPresenceChangedDocument, {}, (e) => store.setPresence(e.presenceChanged));
  return null;
}

function Layout({ onLogout }: { onLogout: () => void }) {
  const { session, connection, capabilities } = useChat();
  const state = useChatState();
  const [openId, open] = useOpenConversation();
  const [composing, setComposing] = useState(false);

  const logout = async () => {
    await connection.urql.mutation(WebLogoutDocument, {}).toPromise();
    onLogout();
  };

  return (
    <div className="chat" data-open={openId ? 'conversation' : 'list'}>
      <p role="status" className="status">
        {state.connection === 'reconnecting' ? 'Reconnecting…' : ''}
      </p>
      <aside className="sidebar">
        <header className="bar">
          <strong className="me" title={session.user.username}>
            {nameOf(session.user)}
          </strong>
          {capabilities.notifications && <NotificationBell openId={openId} onOpen={open} />}
          <button type="button" className="icon" aria-label="Log out" onClick={() => void logout()}>
            <LogoutIcon />
          </button>
        </header>
        <NewConversation
          open={composing}
          onToggle={setComposing}
          onStarted={(id) => {
            setComposing(false);
            open(id);
          }}
        />
        <ConversationList openId={openId} onOpen={open} />
        {capabilities.blocking && <BlockedPeople />}
      </aside>
      <main className="main">
        {openId ? (
          <ConversationView key={openId} conversationId={openId} onBack={() => open(null)} />
        ) : (
          <p className="empty muted">Choose a conversation, or start a new one.</p>
        )}
      </main>
    </div>
  );
}
