import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  GraphQLError,
  OperationTypeNode,
  getOperationAST,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CompiledExecutor } from '../execution/compiled-executor';
import { createDocumentCache } from '../execution/document-cache';
import { createSharedSubscribe, type SinkExecutionArgs } from '../execution/shared-subscribe';
import { connectionParamsToken } from '../shared/bearer';
import type { Authenticated, Authenticator, Context, SocketViewer } from '../shared/context';
import type { ErrorFormatter } from '../shared/format-error';
import type { Logger } from '../shared/logger';
import { noGuard, type OperationGuard } from '../shared/operation-guard';
import { DomainError } from '../shared/errors';
import { operationLabel, type Metrics } from '../shared/metrics';
import type { OriginPolicy } from '../shared/origin-policy';
import type { ViewerIndependentFields } from '../shared/viewer-independence';
import { InitDeadlines } from './init-deadlines';
import { NextFrames } from './next-frames';
import { OpenSockets } from './open-sockets';
import type { SessionSockets } from './session-sockets';
import { GraphqlWsSocket } from './ws-socket';

/** What the WebSocket transport needs from the composition root. */
export interface WebSocketDeps {
  schema: GraphQLSchema;
  /** Executes queries and mutations (graphql-jit, shared with the HTTP transport). */
  executor: CompiledExecutor;
  /** Fields every viewer sees alike: their subscription events are executed once (src/execution/shared-subscribe.ts). */
  viewerIndependent: readonly ViewerIndependentFields[];
  httpServer: Server;
  authenticator: Authenticator;
  /** The context of one operation (src/app/context.ts); loaders only batch. */
  createContext: (viewer: SocketViewer, options: { cache: false; connectionId: string; clientIp: string }) => Context;
  /** Called once a socket's token is accepted (the modules' socket hooks: presence). */
  socketOpened: (viewer: SocketViewer) => Promise<void>;
  /** Called once when an accepted socket closes. */
  socketClosed: (viewer: SocketViewer) => void;
  metrics: Metrics;
  formatError: ErrorFormatter;
  /** Browser origins allowed to open a socket (the handshake's `Origin`); shared with CORS. */
  origins: OriginPolicy;
  sockets: SessionSockets;
  log: Logger;
  /** ms between keep-alive pings; a socket from which nothing (not even the pong) arrived since the previous ping is terminated (graphql-ws's default, 12 s). 0 turns it off. */
  keepAliveMs?: number;
  /** Bytes a socket may have queued for writing before it is terminated as a slow consumer (see {@link GraphqlWsSocket.maxBuffered}). */
  maxBufferedBytes?: number;
  /** The limits of every operation and socket (the same guard as the HTTP transport's). */
  guard?: OperationGuard;
  /** Largest frame a client may send, bytes: a larger one closes the socket with 1009 before it is parsed. */
  maxPayloadBytes?: number;
}

/** Close code for a socket over a connection cap (graphql-ws's "too many" range; clients do not retry it). */
export const TOO_MANY_CONNECTIONS = 4429;

type ConnectionParams = Record<string, unknown> | undefined;

/** WebSocket close code 1013 (RFC 6455 registry: "Try Again Later"): a transient server-side failure. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * Serves graphql-ws (the `graphql-transport-ws` subprotocol) on `/graphql` of the HTTP server.
 * `connection_init` must carry a live token (`authToken`, or `Authorization: Bearer`); otherwise
 * graphql-ws closes the socket with 4403 before any operation runs. The socket is closed with 4403
 * when its token expires or its session is revoked, and with 1013 (try again later) when it
 * cannot be accepted because PostgreSQL or Redis is unavailable. Loaders on a socket only batch (no cache):
 * graphql-ws builds the context per operation, and a subscription lives long.
 *
 * The protocol is graphql-ws's own `makeServer`; what `useServer` (graphql-ws/use/ws) adds around
 * it for `ws` is done here more leanly, since a subscribed socket is held for hours:
 * - each socket is its own adapter ({@link GraphqlWsSocket}): writes are not awaited one by one,
 *   the upgrade request is not kept, and every listener is one function shared by all sockets;
 * - keep-alive is one sweep over all sockets every `keepAliveMs` ({@link OpenSockets}), which
 *   pings each socket and terminates those that sent nothing since the previous ping (useServer's
 *   liveness check, without an interval, a timeout and a `pong` listener per socket);
 * - the open sockets are tracked by {@link OpenSockets}, not by ws (`clientTracking`);
 * - a socket that sends no `connection_init` within 3 s is closed with 4408 by one timer for all
 *   sockets ({@link InitDeadlines}), not by a timer per socket kept for the socket's life.
 *
 * @returns `dispose`, which closes every socket with 1001 (going away) and the server.
 */
export function createWebSocketServer(deps: WebSocketDeps): { dispose: () => Promise<void> } {
  // The open sockets are kept here rather than by ws (clientTracking), whose tracking costs a
  // closure, its context and a second close listener per socket.
  const wss = new WebSocketServer({
    server: deps.httpServer,
    path: '/graphql',
    handleProtocols,
    clientTracking: false,
    WebSocket: GraphqlWsSocket,
    // ws refuses a larger frame (close 1009, "Message too big") before buffering it whole.
    maxPayload: deps.maxPayloadBytes ?? 1024 * 1024,
    // Browsers let any page open a WebSocket to any host: the handshake's Origin is the check.
    // An origin not allowed gets 403 before the upgrade; clients without an Origin pass.
    verifyClient: (info: { origin?: string; req: { headers: { origin?: string } } }, done) => {
      if (deps.origins.allows(info.req.headers.origin)) done(true);
      else {
        deps.metrics.wsRejected.inc({ reason: 'origin' });
        done(false, 403, 'Origin not allowed');
      }
    },
  });
  const guard = deps.guard ?? noGuard;
  const sockets = new OpenSockets<GraphqlWsSocket>(deps.keepAliveMs ?? 12_000);
  const initDeadlines = new InitDeadlines<GraphqlWsSocket>();
  const documents = createDocumentCache(deps.schema, {
    rules: guard.validationRules,
    parseOptions: guard.parseOptions,
    fieldSuggestions: guard.fieldSuggestions,
  });
  const expired = () => deps.metrics.wsRejected.inc({ reason: 'expired' });
  /** A result as the client gets it: errors formatted (a resolver's keep their code; others are the request's). */
  const present = (result: ExecutionResult): ExecutionResult | FormattedExecutionResult =>
    result.errors?.length
      ? {
          ...result,
          errors: result.errors.map((e) => deps.formatError(e, undefined, e.path ? null : 'BAD_USER_INPUT')),
        }
      : result;
  const frames = new NextFrames(present, deps.metrics.deliveryLatency);

  /**
   * Closes a socket that cannot be served for a reason that is not the client's with 1013 (try
   * again later), which tells a client to reconnect with the same token, not to drop it as 4403
   * would. @returns false, for onConnect (graphql-ws's 4403 then finds the socket closing).
   */
  const tryAgainLater = (socket: GraphqlWsSocket, err: unknown, message: string): false => {
    deps.log.warn({ err }, message);
    deps.metrics.wsRejected.inc({ reason: 'unavailable' });
    socket.close(CLOSE_TRY_AGAIN_LATER, 'Try again later');
    return false;
  };

  const server = makeServer<ConnectionParams, GraphqlWsSocket>({
    schema: deps.schema,
    // The 4408 deadline is kept by initDeadlines: graphql-ws's holds a timer per socket for its life.
    connectionInitWaitTimeout: Infinity,
    subscribe: createSharedSubscribe(deps.schema, deps.viewerIndependent),
    // Queries and mutations: compiled once per document, as over HTTP; one duration observation each.
    async execute(args) {
      const start = performance.now();
      const result = await deps.executor.execute(args);
      const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      deps.metrics.operationDuration.observe(
        { transport: 'ws', type, operation: operationLabel(args.operationName) },
        (performance.now() - start) / 1000,
      );
      return result;
    },
    async onConnect(ctx) {
      const socket = ctx.extra;
      initDeadlines.delete(socket);
      const token = connectionParamsToken(ctx.connectionParams);
      // graphql-ws reads connection params only here; the context would keep them (and the
      // bearer token) for the socket's life.
      (ctx as { connectionParams?: ConnectionParams }).connectionParams = undefined;
      if (!token) {
        deps.metrics.wsRejected.inc({ reason: 'no_token' });
        return false;
      }
      let auth: Authenticated;
      try {
        auth = await deps.authenticator.authenticate(token);
      } catch (err) {
        if (err instanceof GraphQLError && err.extensions.code === 'UNAUTHENTICATED') {
          deps.metrics.wsRejected.inc({ reason: 'bad_token' });
          return false;
        }
        // Not the client's fault (the session store is unreachable): 1013, and the token stays good.
        return tryAgainLater(socket, err, 'authenticating a socket failed');
      }
      // Closed while authenticating: graphql-ws has already run onClose, which undoes nothing yet.
      if (socket.readyState !== socket.OPEN) return false;
      const viewer = { user: auth.user, session: auth.session, connectionId: randomUUID() };
      try {
        socket.admission = await guard.admitSocket(viewer, socket.clientIp);
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        // Closed first with its own code: graphql-ws's 4403 that follows finds it closing.
        socket.close(TOO_MANY_CONNECTIONS, err.message);
        return false;
      }
      if (socket.readyState !== socket.OPEN) {
        guard.leaveSocket(viewer, socket.clientIp, socket.admission);
        socket.admission = 0;
        return false;
      }
      // Accepted from here on: onClose undoes each of these (presence: the disconnect waits for
      // the connect, so a socket closing while its entry is written is still removed).
      socket.viewer = viewer;
      deps.metrics.wsConnections.inc();
      deps.log.info({ connectionId: viewer.connectionId, userId: viewer.user.id }, 'WebSocket connected');
      deps.sockets.track(viewer.session.id, socket, viewer.session.expiresAt, expired);
      try {
        await deps.socketOpened(viewer);
      } catch (err) {
        // onClose undoes what was done above.
        return tryAgainLater(socket, err, 'opening a socket failed');
      }
      return true;
    },
    onClose({ extra: socket }, code, reason) {
      const viewer = socket.viewer;
      if (!viewer) return;
      guard.leaveSocket(viewer, socket.clientIp, socket.admission);
      socket.admission = 0;
      deps.log.info({ connectionId: viewer.connectionId, userId: viewer.user.id, code, reason }, 'WebSocket closed');
      socket.viewer = null;
      deps.metrics.wsConnections.dec();
      deps.sockets.untrack(viewer.session.id, socket, viewer.session.expiresAt);
      deps.socketClosed(viewer);
    },
    async onSubscribe({ extra: socket }, id, payload) {
      const checked = documents.check(payload.query);
      if (Array.isArray(checked)) return checked as GraphQLError[];
      const document = checked as DocumentNode;
      const viewer = socket.viewer!;
      const contextValue = deps.createContext(viewer, {
        cache: false,
        connectionId: viewer.connectionId,
        clientIp: socket.clientIp,
      });
      const subscription =
        getOperationAST(document, payload.operationName)?.operation === OperationTypeNode.SUBSCRIPTION;
      if (subscription && socket.subscriptionCount >= guard.maxSubscriptionsPerSocket) {
        guard.refused('wsSubscriptionsPerSocket', 'cap');
        return [tooManySubscriptions(guard.maxSubscriptionsPerSocket)];
      }
      try {
        await guard.check({
          document,
          operationName: payload.operationName,
          variables: payload.variables,
          context: contextValue,
          transport: 'ws',
        });
      } catch (err) {
        if (err instanceof GraphQLError) return [err];
        throw err;
      }
      if (subscription) socket.addSubscription(id);
      // Complete arguments: graphql-ws then skips its own parse, validate, root and context, and
      // adds no properties to an object that the subscription keeps. A subscription's results are
      // written to the socket as they come (src/ws/next-frames.ts).
      return {
        schema: deps.schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        rootValue: undefined,
        contextValue,
        resultSink: subscription ? socket : undefined,
        subscriptionId: subscription ? id : undefined,
      } satisfies SinkExecutionArgs;
    },
    onComplete({ extra: socket }, id) {
      socket.removeSubscription(id);
    },
    onOperation(_ctx, _id, _payload, args) {
      const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      deps.metrics.operations.inc({ transport: 'ws', type });
      return undefined;
    },
    // The result of a query or mutation (a subscription's are framed by `frames`).
    onNext: (_ctx, _id, _payload, _args, result) => present(result),
    onError(_ctx, _id, _payload, errors) {
      return errors.map((e) => deps.formatError(e, undefined, 'GRAPHQL_VALIDATION_FAILED'));
    },
  });

  /**
   * A client frame, parsed here rather than by graphql-ws, which takes a parsed message as well as
   * text (its `parseMessage`). makeServer's handler of a subscribe message stays suspended in its
   * `for await` for as long as the subscription runs, holding its argument: given the text, every
   * subscription kept its whole frame (~0.5 KB); given the message, it keeps what it uses anyway.
   * The query text is interned: thousands of subscriptions with one document share one copy; so
   * are empty variables (`{}`, what most clients send without any).
   * A frame that is not JSON goes on as text, for graphql-ws to close the socket with 4400.
   */
  function parseFrame(text: string): unknown {
    let message: { payload?: { query?: unknown; variables?: unknown } | null } | null;
    try {
      // No reviver: JSON.parse with one calls it for every value.
      message = JSON.parse(text) as typeof message;
    } catch {
      return text;
    }
    const payload = message?.payload;
    if (payload && typeof payload === 'object' && typeof payload.query === 'string') {
      payload.query = documents.intern(payload.query);
      if (isEmptyObject(payload.variables)) payload.variables = NO_VARIABLES;
    }
    return message;
  }

  // The listeners of every socket: one function each for all sockets (`this` is the socket, a
  // GraphqlWsSocket), and `on` rather than `once` (once wraps each listener in two more objects,
  // kept as long as the socket).
  function received(this: WebSocket, data: Buffer, isBinary: boolean) {
    const socket = this as GraphqlWsSocket;
    // ws checks text frames (1007 when not UTF-8); a binary frame's bytes would decode to U+FFFD.
    if (isBinary && !isUtf8(data)) {
      socket.close(1007, 'Frames must be UTF-8 JSON');
      return;
    }
    // graphql-ws's handler is typed for text; its parseMessage takes a parsed message as well.
    socket.handler?.(parseFrame(String(data)) as string).catch((err: unknown) => {
      deps.log.error({ err }, 'handling a WebSocket message failed');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function failed(this: WebSocket, err: Error & { code?: string }) {
    // A frame over maxPayload or not UTF-8: ws has closed the socket already (1009, 1007).
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || err.code === 'WS_ERR_INVALID_UTF8') {
      guard.refused(err.code === 'WS_ERR_INVALID_UTF8' ? 'utf8' : 'maxRequestBytes', 'frame');
      return;
    }
    deps.log.error({ err }, 'WebSocket error');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
  function closed(this: WebSocket, code: number, reason: Buffer) {
    const socket = this as GraphqlWsSocket;
    sockets.remove(socket);
    initDeadlines.delete(socket);
    if (socket.slowConsumer) {
      deps.metrics.wsRejected.inc({ reason: 'slow_consumer' });
      deps.log.warn(
        { userId: socket.viewer?.user.id, maxBufferedBytes: socket.maxBuffered },
        'WebSocket terminated: the client does not read what it is sent',
      );
    }
    const close = socket.closed;
    socket.closed = null;
    close?.(code, String(reason)).catch((err: unknown) => deps.log.error({ err }, 'closing a WebSocket failed'));
  }

  wss.on('error', (err) => deps.log.error({ err }, 'WebSocket server error'));
  wss.on('connection', (socket: GraphqlWsSocket, request) => {
    socket.transport = request.socket;
    socket.clientIp = request.socket.remoteAddress ?? '';
    if (deps.maxBufferedBytes) socket.maxBuffered = deps.maxBufferedBytes;
    socket.frames = frames;
    sockets.add(socket);
    initDeadlines.add(socket);
    socket.on('error', failed);
    socket.on('message', received);
    socket.on('close', closed);
    socket.closed = server.opened(socket, socket);
  });

  return {
    async dispose() {
      initDeadlines.stop();
      const allClosed = sockets.stop();
      for (const socket of sockets) socket.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
      await allClosed;
    },
  };
}

/** The variables of every operation sent with none (`{}`): one frozen object for all. */
const NO_VARIABLES: Readonly<Record<string, unknown>> = Object.freeze({});

/** Whether `value` is a plain object without own enumerable keys (`{}` from JSON). */
function isEmptyObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

/** RATE_LIMITED for a subscription over the per-socket cap: one must end before another starts. */
function tooManySubscriptions(max: number): GraphQLError {
  return new DomainError('RATE_LIMITED', `Too many subscriptions on this socket (at most ${max}): complete one first`, {
    limit: 'wsSubscriptionsPerSocket',
  });
}
