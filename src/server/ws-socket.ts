import type { WebSocket as GraphqlWsSocketShape } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { Authenticated } from '../modules/auth/auth.service';

/** An accepted socket's viewer: its token's user and session, and its id in the presence store. */
export type Viewer = Authenticated & { connectionId: string };

/**
 * A server-side `ws` socket that is also the socket graphql-ws's `makeServer` talks to (the
 * `WebSocket` of graphql-ws's "Use with custom socket adapters"), and the `extra` of its graphql-ws
 * context. The WebSocket server creates its sockets from this class (ws's documented `WebSocket`
 * option), so the adapter costs a socket three fields, not an object of its own and a closure per
 * listener as graphql-ws's `useServer` does:
 *
 * - `protocol`, `send(data)` and `close(code, reason)` are ws's own. `send` writes without waiting
 *   for the write's callback (ws queues writes in order, and drops a write once the socket is
 *   closing, as a bare `ws` server does); `useServer` makes a promise per write instead.
 * - `onMessage(handler)` keeps makeServer's handler on the socket; the server's one `message`
 *   listener, shared by every socket, calls it (websocket.ts: a failure is logged and closes the
 *   socket with 4500).
 *
 * The upgrade request is not kept (useServer keeps it in `extra`; Parley reads nothing from it).
 */
export class GraphqlWsSocket extends WebSocket implements GraphqlWsSocketShape {
  /** makeServer's message handler (set once, by `opened`). */
  handler: ((data: string) => Promise<void>) | null = null;
  /** What makeServer's `opened` returned: call it once the socket has closed. */
  closed: ((code?: number, reason?: string) => Promise<void>) | null = null;
  /** Set by `onConnect` once the socket's token is accepted; the close undoes what that set up. */
  viewer: Viewer | null = null;

  /** graphql-ws: every message from the client goes to `handler` (makeServer calls this once, in `opened`). */
  onMessage(handler: (data: string) => Promise<void>): void {
    this.handler = handler;
  }
}
