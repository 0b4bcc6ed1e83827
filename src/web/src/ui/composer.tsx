import { useRef, useState } from 'react';
import { WebSetTypingDocument } from '../gql/generated';
import { useChat } from './chat-context';
import { SendIcon } from './icons';

/** Least time between two `setTyping(true)` while the user keeps typing, in ms (the server keeps it 6 s). */
const TYPING_REFRESH_MS = 3000;

/**
 * The message box: Enter sends, Shift+Enter starts a new line; typing is announced to the others
 * (ended by sending, or by the server 6 s after the last keystroke; not on blur, which a switch
 * of window or tab causes while the user is still writing).
 */
export function Composer({
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
