import { randomUUID } from 'node:crypto';
import { GraphQLError, execute, type ExecutionResult } from 'graphql';
import { CloseCode, handleProtocols } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticated } from '../modules/auth/auth.service';
import { connectionParamsToken } from './bearer';
import { createDocumentCache } from './document-cache';
import { createRequestContext, type TransportDeps } from './request-context';
import { createSharedSubscribe } from './shared-execution';
import type { SessionSockets } from './session-sockets';
import { OpenSockets } from './open-sockets';
import { GraphqlWsConnection, type ProtocolHandlers } from './ws-connection';
import type { Logger } from '../shared/logger';

/** What the WebSocket side needs from the composition root. */
export interface WebSocketDeps extends TransportDeps {
  sockets: SessionSockets;
  log: Logger;
  /** ms between keep-alive pings; a socket that has not answered the previous ping by then is terminated (graphql-ws's default, 12 s). 0 turns it off. */
  keepAliveMs?: number;
}

/** An accepted socket: its token's user and session, and its id in the presence store. */
type Viewer = Authenticated & { connectionId: string };

/**
 * Serves graphql-ws (the `graphql-transport-ws` subprotocol) on `/graphql` of the HTTP server.
 * `connection_init` must carry a live token (`authToken`, or `Authorization: Bearer`); otherwise
 * the socket is closed with 4403 before any operation runs. The socket is closed with 4403 when
 * its token expires or its session is revoked. Loaders on a socket only batch (no cache): the
 * context lives as long as its operation, and a subscription lives long.
 *
 * The protocol is spoken by {@link GraphqlWsConnection} (graphql-ws's server rewritten as one
 * object per socket); keep-alive is one sweep over all sockets every `keepAliveMs`
 * ({@link OpenSockets}), with graphql-ws's liveness and without a timer per socket.
 *
 * @returns `dispose`, which closes every socket with 1001 (going away) and the server.
 */
export function createWebSocketServer(deps: WebSocketDeps): { dispose: () => Promise<void> } {
  // The open sockets are kept here rather than by ws (clientTracking), whose tracking costs a
  // closure, its context and a second close listener per socket.
  const wss = new WebSocketServer({ server: deps.httpServer, path: '/graphql', handleProtocols, clientTracking: false });
  const sockets = new OpenSockets(deps.keepAliveMs ?? 12_000);
  const documents = createDocumentCache(deps.schema);
  const formatErrors = (errors: readonly GraphQLError[], fallback: string | null) => errors.map((e) => deps.formatError(e, undefined, fallback));
  const formatNext = (result: ExecutionResult) =>
    result.errors?.length ? { ...result, errors: result.errors.map((e) => deps.formatError(e, undefined, e.path ? null : 'BAD_USER_INPUT')) } : result;
  const expired = () => deps.metrics.wsRejected.inc({ reason: 'expired' });

  const handlers: ProtocolHandlers<Viewer> = {
    async connect(connection, params) {
      const token = connectionParamsToken(params);
      if (!token) {
        deps.metrics.wsRejected.inc({ reason: 'no_token' });
        return null;
      }
      let auth: Authenticated;
      try {
        auth = await deps.auth.authenticate(token);
      } catch (err) {
        if (!(err instanceof GraphQLError)) deps.log.error({ err }, 'authenticating a socket failed');
        deps.metrics.wsRejected.inc({ reason: 'bad_token' });
        return null;
      }
      if (connection.closed) return null;
      const viewer: Viewer = { user: auth.user, session: auth.session, connectionId: randomUUID() };
      // Accepted from here on: closed() undoes each of these (presence: the disconnect waits
      // for the connect, so a socket closing while its entry is written is still removed).
      connection.state = viewer;
      deps.metrics.wsConnections.inc();
      deps.sockets.track(viewer.session.id, connection.socket, viewer.session.expiresAt, expired);
      await deps.presence.connect({ connectionId: viewer.connectionId, userId: viewer.user.id, sessionId: viewer.session.id });
      return viewer;
    },
    closed(connection, viewer) {
      if (!viewer) return;
      deps.metrics.wsConnections.dec();
      deps.sockets.untrack(viewer.session.id, connection.socket, viewer.session.expiresAt);
      void deps.presence.disconnect(viewer.connectionId);
    },
    prepare(payload) {
      const checked = documents(payload.query);
      if (Array.isArray(checked)) return checked as readonly GraphQLError[];
      return { schema: deps.schema, document: checked as Exclude<typeof checked, readonly GraphQLError[]>, operationName: payload.operationName, variableValues: payload.variables };
    },
    context(viewer) {
      return createRequestContext(deps, viewer, { cache: false, connectionId: viewer.connectionId });
    },
    subscribe: createSharedSubscribe(deps.schema, formatNext),
    execute,
    started(type) {
      deps.metrics.operations.inc({ transport: 'ws', type });
    },
    formatNext,
    formatErrors: (errors) => formatErrors(errors, 'GRAPHQL_VALIDATION_FAILED'),
    internalError(err) {
      deps.log.error({ err }, 'handling a WebSocket message failed');
    },
  };

  // Listeners shared by every socket (`this` is the socket), finding its connection in a weak
  // map: two closures and their context per socket cost more than a map entry.
  const connections = new WeakMap<WebSocket, GraphqlWsConnection<Viewer>>();
  function failed(this: WebSocket, err: Error) {
    deps.log.error({ err }, 'WebSocket error');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
  function received(this: WebSocket, data: RawData) {
    const connection = connections.get(this);
    connection?.receive(String(data)).catch((err: unknown) => {
      handlers.internalError(err);
      this.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function closed(this: WebSocket) {
    sockets.remove(this);
    void connections.get(this)?.close();
  }

  wss.on('error', (err) => deps.log.error({ err }, 'WebSocket server error'));
  wss.on('connection', (socket, request) => {
    sockets.add(socket, request.socket);
    connections.set(socket, new GraphqlWsConnection(socket, handlers, request.socket));
    // `on`, not `once`: once wraps each listener in two more objects, kept as long as the socket.
    socket.on('error', failed);
    socket.on('message', received);
    socket.on('close', closed);
  });

  return {
    async dispose() {
      const allClosed = sockets.stop();
      for (const socket of sockets) socket.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
      await allClosed;
    },
  };
}
