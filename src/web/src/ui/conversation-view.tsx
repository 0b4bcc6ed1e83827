import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { describeFailure, isUnauthenticated } from '../chat/errors';
import { nameOf, seenBy, seenByLabel } from '../chat/receipts';
import { newClientMessageId, newestSeq, type Message, type PendingMessage } from '../chat/timeline';
import {
  WebConversationDocument,
  WebMarkReadDocument,
  WebMessagesDocument,
  WebSendMessageDocument,
  WebSetActiveConversationDocument,
  WebSetTypingDocument,
  WebTypingDocument,
} from '../gql/generated';
import { useChat, useChatState } from './chat-context';
import { conversationTitle, PresenceDot, presenceText } from './conversation-list';
import { BackIcon, SendIcon } from './icons';
import { useLive } from './use-live';

/** Messages per history page. */
const PAGE = 30;
/** Least time between two `setTyping(true)` while the user keeps typing, in ms (the server keeps it 6 s). */
const TYPING_REFRESH_MS = 3000;

/**
 * One open conversation: its history (older pages load on scrolling up), live messages, who is
 * typing, who has seen the viewer's newest message, and the message box. While it is on screen it
 * is marked read up to its newest message.
 */
export function ConversationView({ conversationId, onBack }: { conversationId: string; onBack: () => void }) {
  const { connection, store, session, expired } = useChat();
  const state = useChatState();
  const c = state.conversations.get(conversationId);
  const timeline = store.timeline(conversationId);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);

  const fail = useCallback(
    (e: Parameters<typeof describeFailure>[0]) => (isUnauthenticated(e) ? expired() : setError(describeFailure(e))),
    [expired],
  );

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

  const loadOlder = useCallback(async () => {
    const t = store.timeline(conversationId);
    if (loading || !t.hasOlder) return;
    setLoading(true);
    const el = logRef.current;
    if (el && t.olderCursor) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    const r = await connection.urql
      .query(WebMessagesDocument, { conversationId, first: PAGE, after: t.olderCursor })
      .toPromise();
    setLoading(false);
    if (!r.data) return fail(r.error ?? {});
    const { edges, pageInfo } = r.data.messages;
    store.addOlderPage(conversationId, {
      messages: edges.map((e) => e.node),
      endCursor: pageInfo.endCursor,
      hasNextPage: pageInfo.hasNextPage,
    });
  }, [connection, conversationId, loading, store, fail]);

  // The newest page, once.
  const firstLoaded = useRef(false);
  useEffect(() => {
    if (firstLoaded.current) return;
    firstLoaded.current = true;
    void loadOlder();
  }, [loadOlder]);

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

  // Scrolling: stay at the bottom when there; keep the view still when older messages come in above.
  const items = timeline.messages.length + timeline.pending.length;
  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [items, typists.length]);
  const onScroll = () => {
    const el = logRef.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (el.scrollTop < 40 && timeline.olderCursor) void loadOlder();
  };

  const send = async (p: PendingMessage) => {
    stick.current = true;
    store.addPending(p);
    const r = await connection.urql
      .mutation(WebSendMessageDocument, {
        input: { conversationId, body: p.body, clientMessageId: p.clientMessageId },
      })
      .toPromise();
    if (r.data) store.addMessages([r.data.sendMessage]);
    else if (r.error && isUnauthenticated(r.error)) expired();
    else store.failPending(conversationId, p.clientMessageId, describeFailure(r.error ?? {}));
  };

  const lastOwn = [...timeline.messages].reverse().find((m) => m.sender.id === session.user.id);
  const seen = c && lastOwn ? seenByLabel(seenBy(lastOwn.seq, c.readReceipts, c.participants, session.user.id)) : '';
  const others = c?.participants.filter((p) => p.id !== session.user.id) ?? [];
  const presence = others.length === 1 ? (state.presence.get(others[0].id) ?? others[0].presence) : null;

  return (
    <section className="conversation-view" aria-label={c ? conversationTitle(c, session.user.id) : 'Conversation'}>
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
      </header>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="log" role="log" aria-label="Messages" ref={logRef} onScroll={onScroll}>
        {timeline.hasOlder && timeline.olderCursor && (
          <button type="button" className="link" disabled={loading} onClick={() => void loadOlder()}>
            Load older messages
          </button>
        )}
        {timeline.messages.map((m) => (
          <Bubble key={m.seq} message={m} mine={m.sender.id === session.user.id} group={!!c?.isGroup} />
        ))}
        {timeline.pending.map((p) => (
          <div key={p.clientMessageId} className="bubble mine pending" aria-busy={p.error ? undefined : true}>
            <p className="body">{p.body}</p>
            {p.error ? (
              <p className="error small">
                Not sent: {p.error}{' '}
                <button type="button" className="link" onClick={() => void send(p)}>
                  Retry
                </button>
              </p>
            ) : (
              <span className="meta">Sending…</span>
            )}
          </div>
        ))}
      </div>
      <div className="below-log">
        <p className="typing muted small">{typists.map((t) => `${nameOf(t.user)} is typing…`).join(' ')}</p>
        <p className="seen muted small">{seen}</p>
      </div>
      <Composer
        conversationId={conversationId}
        disabled={!c}
        onSend={(body) =>
          void send({
            clientMessageId: newClientMessageId(),
            conversationId,
            body,
            createdAt: new Date().toISOString(),
            sender: session.user,
            error: null,
          })
        }
      />
    </section>
  );
}

function Bubble({ message: m, mine, group }: { message: Message; mine: boolean; group: boolean }) {
  const time = new Date(m.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <div className={mine ? 'bubble mine' : 'bubble'} data-seq={m.seq}>
      {group && !mine && <p className="sender small">{nameOf(m.sender)}</p>}
      <p className="body">{m.body}</p>
      <time className="meta" dateTime={m.createdAt}>
        {time}
      </time>
    </div>
  );
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line; typing is announced to the others
 * (ended by sending, or by the server 6 s after the last keystroke; not on blur, which a switch
 * of window or tab causes while the user is still writing).
 */
function Composer({
  conversationId,
  disabled,
  onSend,
}: {
  conversationId: string;
  disabled: boolean;
  onSend: (body: string) => void;
}) {
  const { connection } = useChat();
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const typing = (isTyping: boolean) => {
    lastTyping.current = isTyping ? Date.now() : 0;
    void connection.urql.mutation(WebSetTypingDocument, { conversationId, isTyping }).toPromise();
  };
  const submit = () => {
    const body = text.trim();
    if (!body) return;
    onSend(body);
    setText('');
    if (lastTyping.current) typing(false);
  };
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        aria-label="Message"
        placeholder="Message"
        rows={1}
        maxLength={4000}
        value={text}
        disabled={disabled}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value && Date.now() - lastTyping.current > TYPING_REFRESH_MS) typing(true);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" disabled={disabled || !text.trim()}>
        <SendIcon /> <span>Send</span>
      </button>
    </form>
  );
}

/** Whether the page is visible (not a background tab, not minimised). */
function useVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

/** The time, re-read every `everyMs` while that is not null (to expire typing indicators). */
function useNow(everyMs: number | null): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (everyMs === null) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return everyMs === null ? Date.now() : now;
}
