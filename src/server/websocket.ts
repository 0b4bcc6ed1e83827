import { randomUUID } from 'node:crypto';
import { GraphQLError, getOperationAST, type DocumentNode } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticated } from '../modules/auth/auth.service';
import type { Context } from '../shared/context';
import type { Logger } from '../shared/logger';
import { connectionParamsToken } from './bearer';
import { createDocumentCache } from './document-cache';
import { createRequestContext, type TransportDeps } from './request-context';
import { createSharedSubscribe } from './shared-execution';
import type { SessionSockets } from './session-sockets';

/** What the WebSocket side needs from the composition root. */
export interface WebSocketDeps extends TransportDeps {
  sockets: SessionSockets;
  log: Logger;
}

type Extra = {
  auth?: Authenticated;
  /** This socket's id in the presence store. */
  connectionId?: string;
  socket: WebSocket;
};

/**
 * Serves graphql-ws (the `graphql-transport-ws` subprotocol) on `/graphql` of the HTTP server.
 * `connection_init` must carry a live token (`authToken`, or `Authorization: Bearer`); otherwise
 * graphql-ws closes the socket with 4403 before any operation runs. The socket is closed with 4403
 * when its token expires or its session is revoked. Loaders on a socket only batch (no cache):
 * graphql-ws builds the context per operation, and a subscription lives long.
 *
 * @returns `dispose`, which closes every socket with 1001 (going away) and the server.
 */
export function createWebSocketServer(deps: WebSocketDeps): { dispose: () => Promise<void> } {
  const wss = new WebSocketServer({ server: deps.httpServer, path: '/graphql' });
  const documents = createDocumentCache(deps.schema);
  const cleanup = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema: deps.schema,
      subscribe: createSharedSubscribe(deps.schema),
      onSubscribe(_ctx, _id, payload) {
        const checked = documents(payload.query);
        if (Array.isArray(checked)) return checked as GraphQLError[];
        // graphql-ws then skips its own parse and validate, and still builds the context.
        return {
          schema: deps.schema,
          document: checked as DocumentNode,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      async onConnect(ctx) {
        const token = connectionParamsToken(ctx.connectionParams);
        if (!token) {
          deps.metrics.wsRejected.inc({ reason: 'no_token' });
          return false;
        }
        try {
          ctx.extra.auth = await deps.auth.authenticate(token);
        } catch (err) {
          if (!(err instanceof GraphQLError)) deps.log.error({ err }, 'authenticating a socket failed');
          deps.metrics.wsRejected.inc({ reason: 'bad_token' });
          return false;
        }
        const socket = ctx.extra.socket;
        deps.metrics.wsConnections.inc();
        socket.once('close', () => deps.metrics.wsConnections.dec());
        deps.sockets.track(ctx.extra.auth.session.id, socket, ctx.extra.auth.session.expiresAt, () =>
          deps.metrics.wsRejected.inc({ reason: 'expired' }),
        );
        // Presence: the close listener goes first, so a socket that closes while the entry is
        // being written is still removed (the disconnect waits for the connect).
        if (socket.readyState === socket.CLOSED) return false;
        const connectionId = randomUUID();
        ctx.extra.connectionId = connectionId;
        socket.once('close', () => void deps.presence.disconnect(connectionId));
        await deps.presence.connect({ connectionId, userId: ctx.extra.auth.user.id, sessionId: ctx.extra.auth.session.id });
        return true;
      },
      context(ctx): Context {
        const auth = ctx.extra.auth!;
        return createRequestContext(deps, auth, { cache: false, connectionId: ctx.extra.connectionId });
      },
      onOperation(_ctx, _id, _payload, args) {
        const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
        deps.metrics.operations.inc({ transport: 'ws', type });
        return undefined;
      },
      onNext(_ctx, _id, _payload, _args, result) {
        if (!result.errors?.length) return result;
        return {
          ...result,
          errors: result.errors.map((e) => deps.formatError(e, undefined, e.path ? null : 'BAD_USER_INPUT')),
        };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => deps.formatError(e, undefined, 'GRAPHQL_VALIDATION_FAILED')) as unknown as readonly GraphQLError[];
      },
    },
    wss,
  );
  return {
    async dispose() {
      await cleanup.dispose();
    },
  };
}
