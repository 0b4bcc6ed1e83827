import { useLayoutEffect, useRef } from 'react';
import { nameOf } from '../chat/receipts';
import type { Message, PendingMessage, Timeline } from '../chat/timeline';

/**
 * The log named "Messages": confirmed messages by seq, then the viewer's pending sends (with why
 * one failed and a Retry). Stays at the bottom while the reader is there; keeps the view still
 * when an older page comes in above; scrolling near the top loads that page.
 */
export function MessageLog({
  timeline,
  viewerId,
  group,
  loading,
  extraRows,
  onLoadOlder,
  onRetry,
  stickRef,
}: {
  timeline: Timeline;
  viewerId: string;
  group: boolean;
  loading: boolean;
  /** Rows shown below the log that should keep the bottom in view when they change (typists). */
  extraRows: number;
  onLoadOlder: () => void;
  onRetry: (p: PendingMessage) => void;
  /** Whether to stay at the bottom; the composer sets it when the viewer sends. */
  stickRef: React.RefObject<boolean>;
}) {
  const logRef = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ height: number; top: number } | null>(null);

  const older = () => {
    const el = logRef.current;
    if (loading || !timeline.hasOlder || !timeline.olderCursor) return;
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    onLoadOlder();
  };

  const items = timeline.messages.length + timeline.pending.length;
  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (stickRef.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [items, extraRows, stickRef]);

  const onScroll = () => {
    const el = logRef.current!;
    stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (el.scrollTop < 40) older();
  };

  return (
    <div className="log" role="log" aria-label="Messages" ref={logRef} onScroll={onScroll}>
      {timeline.hasOlder && timeline.olderCursor && (
        <button type="button" className="link" disabled={loading} onClick={older}>
          Load older messages
        </button>
      )}
      {timeline.messages.map((m) => (
        <Bubble key={m.seq} message={m} mine={m.sender.id === viewerId} group={group} />
      ))}
      {timeline.pending.map((p) => (
        <Pending key={p.clientMessageId} pending={p} onRetry={onRetry} />
      ))}
    </div>
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

/** A send not confirmed yet: "Sending…", or why it failed and a Retry (the text is never lost). */
function Pending({ pending: p, onRetry }: { pending: PendingMessage; onRetry: (p: PendingMessage) => void }) {
  return (
    <div className="bubble mine pending" aria-busy={p.error ? undefined : true}>
      <p className="body">{p.body}</p>
      {p.error ? (
        <p className="error small" role="alert">
          Not sent: {p.error}{' '}
          <button type="button" className="link" onClick={() => onRetry(p)}>
            Retry
          </button>
        </p>
      ) : (
        <span className="meta">Sending…</span>
      )}
    </div>
  );
}
