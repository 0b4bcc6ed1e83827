import { GraphQLError, getOperationAST, versionInfo, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, stringifyMessage, type SubscribePayload } from 'graphql-ws';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PayloadTarget, SubscriptionEvents } from './shared-execution';

/** How long a socket may wait before its `connection_init`, in ms (graphql-ws's default). */
export const CONNECTION_INIT_WAIT_MS = 3_000;

/** What every connection of one server shares: the server's hooks, one object for all sockets. */
export interface ProtocolHandlers<C> {
  /** connection_init: authenticates; `null` refuses (4403 Forbidden). Called once per socket. */
  connect(connection: GraphqlWsConnection<C>, params: Record<string, unknown> | undefined): Promise<C | null>;
  /** The socket closed; `state` is what {@link connect} returned, if it was accepted. */
  closed(connection: GraphqlWsConnection<C>, state: C | null): void;
  /** Parsed and validated arguments of an operation (without context), or the errors to answer with. */
  prepare(payload: SubscribePayload): Omit<ExecutionArgs, 'contextValue'> | readonly GraphQLError[];
  /** The context of one operation. */
  context(state: C): unknown;
  /** Runs a subscription: its events, or a result carrying the errors of a failed subscribe. */
  subscribe(args: ExecutionArgs): Promise<ExecutionResult | SubscriptionEvents>;
  /** Runs a query or mutation. */
  execute(args: ExecutionArgs): Promise<ExecutionResult> | ExecutionResult;
  /** After an operation has started (metrics). */
  started(type: string): void;
  /** A result as the payload of a `next` message (error formatting). */
  formatNext(result: ExecutionResult): unknown;
  /** Errors as the payload of an `error` message (error formatting). */
  formatErrors(errors: readonly GraphQLError[]): unknown;
  /** Something failed inside the server while handling a message. */
  internalError(err: unknown): void;
}

/** An operation of a socket: `null` while it is being set up, then what stops it. */
type Running = AsyncIterator<unknown> | null;

const ACK = stringifyMessage({ type: MessageType.ConnectionAck });

/**
 * One socket speaking the `graphql-transport-ws` protocol (graphql-ws's
 * [PROTOCOL.md](https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md)), the server
 * side of graphql-ws's `makeServer` rewritten as a class: the same messages, checks, close codes
 * and reasons, with graphql-ws's own `parseMessage`/`stringifyMessage`. graphql-ws's version keeps
 * an async function frame, an emitter of three closures, the upgrade request and a keep-alive
 * timer alive per socket and per subscription, and serializes every event once per subscriber;
 * here the state is this object, keep-alive is one sweep for all sockets (websocket.ts), and a
 * subscription's event payload is serialized once per event (shared-execution.ts), each frame
 * adding only its id. Messages are written without waiting for each write's callback (ws
 * buffers them in order), as a bare `ws` server does.
 *
 * @typeParam C - what an accepted connection_init leaves (the authenticated viewer).
 */
export class GraphqlWsConnection<C> implements PayloadTarget {
  /** What {@link ProtocolHandlers.connect} returned, once accepted. */
  state: C | null = null;
  private initReceived = false;
  private acknowledged = false;
  private closedAlready = false;
  private initTimer: NodeJS.Timeout | null;
  /** The socket's operations: the first in two fields (most sockets hold one), others in a map made when needed. */
  private soleId: string | null = null;
  private sole: Running = null;
  private more: Map<string, Running> | null = null;

  constructor(
    readonly socket: WebSocket,
    private readonly handlers: ProtocolHandlers<C>,
    /** The TCP socket under `socket` (the upgrade request's), corked while a tick writes to it; none: never corked. */
    private readonly transport?: Duplex,
  ) {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      this.initTimer = null;
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    this.initTimer = setTimeout(() => {
      if (!this.initReceived) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, CONNECTION_INIT_WAIT_MS);
  }

  /** Whether the socket has closed. */
  get closed(): boolean {
    return this.closedAlready;
  }

  /** Handles one message from the client. */
  async receive(data: string): Promise<void> {
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(data);
    } catch {
      return this.socket.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.init(message.payload);
      case MessageType.Ping:
        return this.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.subscribe(message.id, message.payload);
      case MessageType.Complete: {
        const running = this.operation(message.id);
        this.forget(message.id);
        await running?.return?.();
        return;
      }
      default:
        throw new Error(`Unexpected message of type ${message.type} received`);
    }
  }

  /** The socket closed: stops every operation, then tells the server. */
  async close(): Promise<void> {
    if (this.closedAlready) return;
    this.closedAlready = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    const running = [...(this.soleId === null ? [] : [this.sole]), ...(this.more?.values() ?? [])];
    this.soleId = this.sole = this.more = null;
    this.handlers.closed(this, this.state);
    await Promise.all(running.map((r) => r?.return?.()));
  }

  private async init(payload: unknown): Promise<void> {
    if (this.initReceived) return this.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    this.initReceived = true;
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = null;
    const params = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : undefined;
    const state = await this.handlers.connect(this, params);
    if (state === null) return this.socket.close(CloseCode.Forbidden, 'Forbidden');
    this.state = state;
    this.acknowledged = true;
    this.send(ACK);
  }

  private async subscribe(id: string, payload: SubscribePayload): Promise<void> {
    if (!this.acknowledged || this.state === null) return this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.has(id)) return this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    this.hold(id, null);
    let piped = false;
    try {
      const prepared = this.handlers.prepare(payload);
      if (Array.isArray(prepared)) return this.error(id, prepared as readonly GraphQLError[]);
      const partial = prepared as Omit<ExecutionArgs, 'contextValue'>;
      const operation = getOperationAST(partial.document, partial.operationName);
      if (!operation) return this.error(id, [new GraphQLError('Unable to identify operation')]);
      // A literal of fixed keys, not a spread: a subscription keeps its arguments, and spread
      // copies gave each one a hidden class of its own (heap snapshots).
      const args: ExecutionArgs = {
        schema: partial.schema,
        document: partial.document,
        operationName: partial.operationName,
        variableValues: partial.variableValues,
        contextValue: this.handlers.context(this.state),
      };
      if (operation.operation !== 'subscription') {
        const result = await this.handlers.execute(args);
        this.handlers.started(operation.operation);
        this.next(id, JSON.stringify(this.handlers.formatNext(result)));
        return this.complete(id);
      }
      const outcome = await this.handlers.subscribe(args);
      this.handlers.started(operation.operation);
      if (!('payload' in outcome)) {
        this.next(id, JSON.stringify(this.handlers.formatNext(outcome)));
        return this.complete(id);
      }
      if (!this.has(id)) {
        await outcome.source.return?.();
        return;
      }
      this.hold(id, outcome.source);
      // Piped, the subscription is held by its source stream and this connection only: no async
      // frame or promise waits for it.
      if ((piped = outcome.pipeTo(this, id))) return;
      try {
        await this.iterate(id, outcome);
      } catch (err) {
        return this.fail(id, err);
      }
      this.complete(id);
    } finally {
      if (!piped) this.forget(id);
    }
  }

  /** Sends every event of a source that is not a PushStream until it ends. */
  private async iterate(id: string, events: SubscriptionEvents): Promise<void> {
    for (;;) {
      const item = await events.source.next();
      if (item.done) return;
      this.next(id, await events.payload(item.value));
    }
  }

  /** Whether `source` still runs operation `id` (not completed by the client, nor the id reused since). */
  private runs(id: string, source: AsyncIterator<unknown>): boolean {
    return this.operation(id) === source;
  }

  /** A subscription's event: its `next` message, unless the client completed it (or reused its id since). */
  deliver(id: string, source: AsyncIterator<unknown>, payloadJson: string): void {
    if (this.runs(id, source)) this.next(id, payloadJson);
  }

  /** The end of a subscription's stream: `complete` (or `error` when it failed), unless the client completed it. */
  ended(id: string, source: AsyncIterator<unknown>, error?: unknown): void {
    if (!this.runs(id, source)) return;
    if (error === undefined) this.complete(id);
    else this.fail(id, error);
    this.forget(id);
  }

  /** A subscription's source failed: an `error` message, as graphql-ws sends it. */
  private fail(id: string, err: unknown): void {
    this.error(id, [streamError(err instanceof Error ? err : new Error(String(err)))]);
  }

  private has(id: string): boolean {
    return this.soleId === id || (this.more?.has(id) ?? false);
  }

  /** The operation `id` (`null` while being set up), or undefined when there is none. */
  private operation(id: string): Running | undefined {
    return this.soleId === id ? this.sole : this.more?.get(id);
  }

  private hold(id: string, running: Running): void {
    if (this.soleId === id || (this.soleId === null && !this.more?.has(id))) {
      this.soleId = id;
      this.sole = running;
    } else {
      (this.more ??= new Map()).set(id, running);
    }
  }

  private forget(id: string): void {
    if (this.soleId === id) this.soleId = this.sole = null;
    else this.more?.delete(id);
  }

  /** A `next` message for operation `id` whose payload is already JSON text. */
  private next(id: string, payloadJson: string): void {
    if (!this.has(id)) return;
    this.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payloadJson}}`);
  }

  private error(id: string, errors: readonly GraphQLError[]): void {
    if (!this.has(id)) return;
    this.send(stringifyMessage({ id, type: MessageType.Error, payload: this.handlers.formatErrors(errors) as readonly GraphQLError[] }));
  }

  /** Ends operation `id` for the client, unless the client completed it (or the socket closed). */
  private complete(id: string): void {
    if (this.has(id)) this.send(stringifyMessage({ id, type: MessageType.Complete }));
  }

  private send(data: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.transport && !this.transport.writableCorked) corkUntilNextTick(this.transport);
    this.socket.send(data);
  }
}

/** TCP sockets corked in this tick, uncorked together on the next one. */
let corked: Duplex[] = [];

/**
 * Holds a socket's writes until the end of this tick: a live event often arrives with others in
 * one read from Redis, and a subscriber's frames of that tick then leave in one `writev` instead
 * of one each (ws corks each frame alone, its header and its payload). In the fan-out benchmark's
 * CPU profile `writev` was a third of the instances' time.
 */
function corkUntilNextTick(socket: Duplex): void {
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
}

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}

/** The error sent when a subscription's source stream fails, as graphql-ws builds it. */
function streamError(original: Error): GraphQLError {
  return versionInfo.major >= 17
    ? new GraphQLError(original.message, { cause: original } as never)
    : new GraphQLError(original.message, { originalError: original });
}
