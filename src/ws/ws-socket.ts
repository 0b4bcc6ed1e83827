import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import type { WebSocket as GraphqlWsSocketShape } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { ResultSink } from '../execution/shared-subscribe';
import type { SocketViewer } from '../shared/context';
import type { NextFrames } from './next-frames';

/**
 * A server-side `ws` socket that is also the socket graphql-ws's `makeServer` talks to (the
 * `WebSocket` of graphql-ws's "Use with custom socket adapters"), and the `extra` of its graphql-ws
 * context. The WebSocket server creates its sockets from this class (ws's documented `WebSocket`
 * option), so the adapter costs a socket four fields, not an object of its own and a closure per
 * listener as graphql-ws's `useServer` does:
 *
 * - `protocol` and `close(code, reason)` are ws's own, and so is `send(data)` but for corking
 *   ({@link transport}). `send` writes without waiting for the write's callback (ws queues writes
 *   in order, and drops a write once the socket is closing, as a bare `ws` server does);
 *   `useServer` makes a promise per write instead.
 * - `onMessage(handler)` keeps makeServer's handler on the socket; the server's one `message`
 *   listener, shared by every socket, calls it (websocket.ts: a failure is logged and closes the
 *   socket with 4500).
 * - Subscription results do not go through makeServer: {@link writeResult} writes their frames
 *   (the socket is the subscriptions' {@link ResultSink}).
 *
 * The upgrade request is not kept (useServer keeps it in `extra`; Parley reads nothing from it).
 */
export class GraphqlWsSocket extends WebSocket implements GraphqlWsSocketShape, ResultSink {
  /** makeServer's message handler (set once, by `opened`). */
  handler: ((data: string) => Promise<void>) | null = null;
  /** What makeServer's `opened` returned: call it once the socket has closed. */
  closed: ((code?: number, reason?: string) => Promise<void>) | null = null;
  /** Set by `onConnect` once the socket's token is accepted; the close undoes what that set up. */
  viewer: SocketViewer | null = null;
  /**
   * The TCP socket under this one (the upgrade request's), corked from the first frame a tick
   * sends on it until the next tick; null: never corked. Live events often arrive several in one
   * read from Redis, and a subscriber's frames of that tick then leave in one `writev`.
   */
  transport: Socket | null = null;
  /**
   * Most bytes this socket may have waiting in its write queue (ws's `bufferedAmount`: what the
   * kernel has not taken yet, this tick's corked frames included) before it is terminated.
   * Writes are not awaited per subscriber (a bare `ws` server's behaviour too), so a client that
   * stops reading would otherwise grow the instance's memory with every event. The client sees
   * an abnormal close (1006), reconnects and resumes with its positions (`after`): NATS's
   * "slow consumer" policy.
   */
  maxBuffered = DEFAULT_MAX_BUFFERED;
  /** The peer's address (limits per address). */
  clientIp = '';
  /** What the guard's `admitSocket` counted for this socket, to give back on close; 0: holds no place. */
  admission = 0;
  /**
   * Ids of the subscriptions running on this socket (capped by the guard): one id alone, as most
   * sockets run one subscription, else a Set (which costs an idle socket ~160 bytes).
   */
  private subscriptionIds: string | Set<string> | null = null;
  /** Set when {@link maxBuffered} was exceeded, for the close handler to count and log it. */
  slowConsumer = false;
  /** How results of subscriptions are framed, set by the server on connection; null until then. */
  frames: NextFrames | null = null;

  /**
   * Writes subscription `id`'s `result` as a `next` frame ({@link NextFrames}); the server's
   * subscriptions write here directly, not through graphql-ws's `emit.next`
   * (src/execution/shared-subscribe.ts). The frame, header included, goes to the TCP socket in one
   * write, not through ws's `send` (which frames the data again and writes header and data
   * apart): the server negotiates no extension (ws's `perMessageDeflate` is off), and every write,
   * ws's and this one, goes in call order to the same socket. Nothing is written once the socket
   * is closing, as ws's `send` writes nothing then. Observes the delivery latency of a live event
   * (`committedAt`, ms since the epoch; 0: not one) at the write.
   */
  writeResult(id: string, result: ExecutionResult, committedAt: number): void {
    const transport = this.transport;
    if (transport === null || this.readyState !== WebSocket.OPEN) return;
    const frames = this.frames!;
    if (committedAt !== 0) frames.deliveryLatency?.observe(Math.max(0, Date.now() - committedAt) / 1000);
    corkUntilNextTick(transport);
    transport.write(frames.frame(id, result));
    this.limitBuffered();
  }

  override send(data: BufferLike, cb?: (err?: Error) => void): void;
  override send(data: BufferLike, options: SendOptions, cb?: (err?: Error) => void): void;
  override send(
    data: BufferLike,
    optionsOrCb?: SendOptions | ((err?: Error) => void),
    cb?: (err?: Error) => void,
  ): void {
    const transport = this.transport;
    if (transport && this.readyState === WebSocket.OPEN) corkUntilNextTick(transport);
    if (typeof optionsOrCb === 'function') super.send(data, optionsOrCb);
    else super.send(data, optionsOrCb ?? NO_OPTIONS, cb);
    this.limitBuffered();
  }

  /** Terminates the socket once its write queue holds more than {@link maxBuffered} bytes. */
  private limitBuffered(): void {
    if (this.bufferedAmount > this.maxBuffered && !this.slowConsumer) {
      this.slowConsumer = true;
      this.terminate();
    }
  }

  /** How many subscriptions run on this socket (those added and not yet removed). */
  get subscriptionCount(): number {
    const ids = this.subscriptionIds;
    return ids === null ? 0 : typeof ids === 'string' ? 1 : ids.size;
  }

  /** Counts subscription `id` as running (graphql-ws ids are unique among a socket's running operations). */
  addSubscription(id: string): void {
    const ids = this.subscriptionIds;
    if (ids === null) this.subscriptionIds = id;
    else if (typeof ids === 'string') this.subscriptionIds = new Set([ids, id]);
    else ids.add(id);
  }

  /** Forgets subscription `id` (nothing when it is not counted: a query or mutation). */
  removeSubscription(id: string): void {
    const ids = this.subscriptionIds;
    if (ids === id) this.subscriptionIds = null;
    else if (ids instanceof Set) {
      ids.delete(id);
      if (ids.size === 0) this.subscriptionIds = null;
    }
  }

  /** graphql-ws: every message from the client goes to `handler` (makeServer calls this once, in `opened`). */
  onMessage(handler: (data: string) => Promise<void>): void {
    this.handler = handler;
  }
}

/** {@link GraphqlWsSocket.maxBuffered} unless the server sets another (config WS_MAX_BUFFERED_BYTES). */
const DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024;

type BufferLike = Parameters<WebSocket['send']>[0];
type SendOptions = { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean };
const NO_OPTIONS: SendOptions = Object.freeze({});

/** TCP sockets corked in this tick, uncorked together on the next one. */
let corked: Duplex[] = [];

/** Holds a socket's writes until the end of this tick (see {@link GraphqlWsSocket.transport}), unless it is held already. */
function corkUntilNextTick(socket: Duplex): void {
  if (socket.writableCorked) return;
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
}

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}
