import { Client as UrqlClient, fetchExchange, stringifyDocument, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { ChatStore } from '../chat/chat-store';
import { WebMessageAddedDocument, type WebMessageAddedSubscription } from '../gql/generated';

/** The client's two ways to the server: urql (HTTP, and subscriptions over the socket) and the socket itself. */
export interface Connection {
  urql: UrqlClient;
  ws: WsClient;
  /** Closes the socket and stops every subscription. */
  dispose(): void;
}

/** Where the API is: the page's own origin, `/graphql` (the Vite dev server proxies it). */
const httpUrl = () => new URL('/graphql', location.href).href;
const wsUrl = () => httpUrl().replace(/^http/, 'ws');

/** Waits before the nth retry, in ms: 0.5 s doubling up to 5 s, with jitter so that clients spread out. */
const retryWait = (retries: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.min(5000, 500 * 2 ** retries) * (0.75 + Math.random() / 2)));

/**
 * Connects a logged-in user: urql for queries and mutations (the token in the Authorization
 * header) and one graphql-ws socket for every subscription (the token in `connection_init`).
 * The socket retries forever after a drop (server restart, laptop sleep, deploy); the store's
 * connection state says when it is down.
 * @param onUnauthenticated - called when the server refuses the token (socket closed with 4403/4401)
 */
export function connect(token: string, store: ChatStore, onUnauthenticated: () => void): Connection {
  let disposed = false;
  const ws = createWsClient({
    url: wsUrl(),
    connectionParams: { authToken: token },
    lazy: false,
    retryAttempts: Infinity,
    retryWait,
    // A refused token does not become good by retrying: stop and ask the user to log in.
    shouldRetry: (e) => !isAuthClose(e),
    keepAlive: 10_000,
    on: {
      connected: () => store.setConnection('online'),
      closed: (e) => {
        if (disposed) return;
        if (isAuthClose(e)) onUnauthenticated();
        else store.setConnection('reconnecting');
      },
    },
  });
  const urql = new UrqlClient({
    url: httpUrl(),
    requestPolicy: 'network-only',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return {
    urql,
    ws,
    dispose: () => {
      disposed = true;
      void ws.dispose();
    },
  };
}

const isAuthClose = (e: unknown) =>
  typeof e === 'object' && e !== null && 'code' in e && (e.code === 4403 || e.code === 4401);

const MESSAGE_ADDED = stringifyDocument(WebMessageAddedDocument);

/**
 * Follows `messageAdded` for every conversation of the viewer without losing a message: the
 * first subscription and every one after a reconnect name where the client stands
 * (`after: store.positions()`), so the server replays exactly what was missed, then goes live.
 * graphql-ws would resubscribe by itself after a drop, but with the positions of the first
 * subscription; so on each reconnect the old subscription is dropped and a new one made.
 * Messages seen twice (a replay overlapping a live event) are merged once by seq.
 * @param onUnknownConversation - a message arrived in a conversation the store does not hold yet
 * @returns stops following
 */
export function followMessages(
  ws: WsClient,
  store: ChatStore,
  onUnknownConversation: (conversationId: string) => void,
): () => void {
  let stop: (() => void) | null = null;
  let stopped = false;
  let failures = 0;
  let current = 0;
  let again: ReturnType<typeof setTimeout> | undefined;
  // The server ended the subscription while the socket stays up (an error, a dependency down):
  // follow again from where the store stands, after a growing wait, rather than go quiet.
  const restartLater = () => {
    if (stopped) return;
    clearTimeout(again);
    again = setTimeout(start, Math.min(5000, 500 * 2 ** failures++));
  };
  const start = () => {
    // Unsubscribing completes the old sink: only the current subscription's end restarts.
    const generation = ++current;
    const ended = () => generation === current && restartLater();
    stop?.();
    stop = ws.subscribe<WebMessageAddedSubscription>(
      { query: MESSAGE_ADDED, variables: { after: store.positions() } },
      {
        next: ({ data }) => {
          if (!data) return;
          failures = 0;
          for (const id of store.addMessages([data.messageAdded])) onUnknownConversation(id);
        },
        error: ended,
        complete: ended,
      },
    );
  };
  const off = ws.on('connected', (_socket, _payload, wasRetry) => {
    if (wasRetry) start();
  });
  start();
  return () => {
    stopped = true;
    current = -1;
    clearTimeout(again);
    off();
    stop?.();
  };
}
