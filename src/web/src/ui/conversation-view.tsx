import { useCallback, useEffect, useRef, useState } from 'react';
import { describeFailure, isUnauthenticated, type FailureLike } from '../chat/errors';
import { nameOf, seenBy, seenByLabel } from '../chat/receipts';
import { newClientMessageId, newestSeq } from '../chat/timeline';
import {
  WebConversationDocument,
  WebMarkReadDocument,
  WebSetActiveConversationDocument,
  WebTypingDocument,
} from '../gql/generated';
import { useChat, useChatState } from './chat-context';
import { Composer } from './composer';
import { ConversationHeader } from './conversation-header';
import { conversationTitle } from './conversation-list';
import { MessageLog } from './message-log';
import { useNow, useVisible } from './use-clock';
import { useHistory } from './use-history';
import { useLive } from './use-live';
import { useSend } from './use-send';

/**
 * One open conversation: its history (older pages load on scrolling up), live messages, who is
 * typing, who has seen the viewer's newest message, and the message box. While it is on screen it
 * is marked read up to its newest message, and the server is told it is the active one.
 */
export function ConversationView({ conversationId, onBack }: { conversationId: string; onBack: () => void }) {
  const { connection, store, session, expired } = useChat();
  const state = useChatState();
  const c = state.conversations.get(conversationId);
  const timeline = store.timeline(conversationId);
  const [error, setError] = useState<string | null>(null);
  const stick = useRef(true);

  const fail = useCallback(
    (e: FailureLike) => (isUnauthenticated(e) ? expired() : setError(describeFailure(e))),
    [expired],
  );
  const { loadOlder, loading } = useHistory(conversationId, fail);
  const send = useSend(conversationId);

  // A conversation opened from the address may not be in the list yet.
  useEffect(() => {
    if (c) return;
    void connection.urql
      .query(WebConversationDocument, { id: conversationId })
      .toPromise()
      .then((r) => {
        if (r.data?.conversation) store.upsertConversations([r.data.conversation]);
        else if (r.error) fail(r.error);
        else setError('You are not a participant of this conversation, or it does not exist.');
      });
  }, [c, connection, conversationId, store, fail]);

  // Presence: the viewer is looking at this conversation.
  useEffect(() => {
    void connection.urql.mutation(WebSetActiveConversationDocument, { conversationId }).toPromise();
    return () => void connection.urql.mutation(WebSetActiveConversationDocument, { conversationId: null }).toPromise();
  }, [connection, conversationId]);

  // Mark read while on screen.
  const newest = newestSeq(timeline);
  const visible = useVisible();
  useEffect(() => {
    if (!c || !visible || newest <= c.lastReadSeq) return;
    store.markRead(conversationId, newest);
    void connection.urql.mutation(WebMarkReadDocument, { conversationId, seq: newest }).toPromise();
  }, [c, visible, newest, connection, conversationId, store]);

  // Who is typing.
  useLive(WebTypingDocument, { conversationId }, (e) =>
    store.setTyping(conversationId, e.typing.user, e.typing.isTyping, Date.now()),
  );
  const now = useNow(state.typing.get(conversationId)?.size ? 1000 : null);
  const typists = store.typists(conversationId, now);

  const lastOwn = [...timeline.messages].reverse().find((m) => m.sender.id === session.user.id);
  const seen = c && lastOwn ? seenByLabel(seenBy(lastOwn.seq, c.readReceipts, c.participants, session.user.id)) : '';

  return (
    <section className="conversation-view" aria-label={c ? conversationTitle(c, session.user.id) : 'Conversation'}>
      <ConversationHeader conversation={c} onBack={onBack} onError={setError} />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <MessageLog
        timeline={timeline}
        viewerId={session.user.id}
        group={!!c?.isGroup}
        loading={loading}
        extraRows={typists.length}
        onLoadOlder={() => void loadOlder()}
        onRetry={(p) => {
          stick.current = true;
          void send(p);
        }}
        stickRef={stick}
      />
      <div className="below-log">
        <p className="typing muted small">{typists.map((t) => `${nameOf(t.user)} is typing…`).join(' ')}</p>
        <p className="seen muted small">{seen}</p>
      </div>
      <Composer
        conversationId={conversationId}
        disabled={!c}
        onSend={(body) => {
          stick.current = true;
          void send({
            clientMessageId: newClientMessageId(),
            conversationId,
            body,
            createdAt: new Date().toISOString(),
            sender: session.user,
            error: null,
          });
        }}
      />
    </section>
  );
}
