import { useCallback, useEffect, useRef, useState } from 'react';
import { WebMessagesDocument } from '../gql/generated';
import { useChat } from './chat-context';

/** Messages per history page. */
const PAGE = 30;

/**
 * A conversation's history, newest page first (once, on mount), older pages on demand, by the
 * cursor the previous page gave.
 * @param fail - shows a failed page load
 */
export function useHistory(
  conversationId: string,
  fail: (error: { graphQLErrors?: readonly { message: string }[]; networkError?: unknown }) => void,
): { loadOlder: () => Promise<void>; loading: boolean } {
  const { connection, store } = useChat();
  const [loading, setLoading] = useState(false);
  const busy = useRef(false);

  const loadOlder = useCallback(async () => {
    const t = store.timeline(conversationId);
    if (busy.current || !t.hasOlder) return;
    busy.current = true;
    setLoading(true);
    const r = await connection.urql
      .query(WebMessagesDocument, { conversationId, first: PAGE, after: t.olderCursor })
      .toPromise();
    busy.current = false;
    setLoading(false);
    if (!r.data) return fail(r.error ?? {});
    const { edges, pageInfo } = r.data.messages;
    store.addOlderPage(conversationId, {
      messages: edges.map((e) => e.node),
      endCursor: pageInfo.endCursor,
      hasNextPage: pageInfo.hasNextPage,
    });
  }, [connection, conversationId, store, fail]);

  // The newest page, once.
  const firstLoaded = useRef(false);
  useEffect(() => {
    if (firstLoaded.current) return;
    firstLoaded.current = true;
    void loadOlder();
  }, [loadOlder]);

  return { loadOlder, loading };
}
