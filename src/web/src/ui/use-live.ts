import { stringifyDocument } from '@urql/core';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useEffect, useRef } from 'react';
import { useChat } from './chat-context';

/**
 * Follows a subscription on the session's socket while the component is mounted and hands each
 * event to `onData` (which feeds the store). graphql-ws resubscribes it after a reconnect. Not
 * urql's useSubscription: its handler runs inside a React state update, where feeding an
 * external store is not allowed.
 */
export function useLive<Data, Vars extends Record<string, unknown>>(
  document: TypedDocumentNode<Data, Vars>,
  variables: Vars,
  onData: (data: Data) => void,
): void {
  const { connection } = useChat();
  const handler = useRef(onData);
  handler.current = onData;
  const key = JSON.stringify(variables);
  useEffect(
    () =>
      connection.ws.subscribe<Data>(
        { query: stringifyDocument(document), variables: JSON.parse(key) as Vars },
        { next: ({ data }) => data && handler.current(data), error: () => undefined, complete: () => undefined },
      ),
    [connection, document, key],
  );
}
