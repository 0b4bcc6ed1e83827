import { useEffect, useState } from 'react';
import { nameOf } from '../chat/receipts';
import { WebBlockedUsersDocument } from '../gql/generated';
import { BlockButton } from './block-button';
import { useChat, useChatState } from './chat-context';

/**
 * The people the viewer blocks, under a "Blocked people (N)" toggle in the sidebar, each with
 * Unblock. Read once when the server has blocking; kept by the Block / Unblock buttons after.
 */
export function BlockedPeople() {
  const { connection, store } = useChat();
  const { blocked } = useChatState();
  const [shown, setShown] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void connection.urql
      .query(WebBlockedUsersDocument, {})
      .toPromise()
      .then((r) => r.data && store.setBlocked(r.data.blockedUsers));
  }, [connection, store]);

  if (blocked.length === 0) return null;
  return (
    <section className="blocked">
      <button type="button" className="link" aria-expanded={shown} onClick={() => setShown(!shown)}>
        Blocked people ({blocked.length})
      </button>
      {shown && (
        <ul aria-label="Blocked people">
          {blocked.map((u) => (
            <li key={u.id}>
              <span>{nameOf(u)}</span> <BlockButton user={u} onError={setError} />
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p role="alert" className="error small">
          {error}
        </p>
      )}
    </section>
  );
}
