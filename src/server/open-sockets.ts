import type { WebSocket } from 'ws';

/**
 * The open sockets of one WebSocket server, with their keep-alive on one timer: every
 * `keepAliveMs` each socket is pinged, and a socket that has not answered the previous ping by
 * then is terminated. That is the liveness of graphql-ws's `useServer` (ping every 12 s,
 * terminate when no pong within 12 s) without a timer, a `once('pong')` wrapper and a closure per
 * socket; the heartbeat of ws's README ("How to detect and close broken connections").
 */
export class OpenSockets implements Iterable<WebSocket> {
  private readonly sockets = new Set<WebSocket>();
  private readonly unanswered = new Set<WebSocket>();
  private readonly timer: NodeJS.Timeout | null;
  /** The pong listener of every socket (`this` is the socket). */
  private readonly answered: (this: WebSocket) => void;
  private emptied: (() => void) | null = null;

  /** @param keepAliveMs - ms between pings; 0 turns keep-alive off. */
  constructor(keepAliveMs: number) {
    const unanswered = this.unanswered;
    this.answered = function (this: WebSocket) {
      unanswered.delete(this);
    };
    this.timer = keepAliveMs > 0 ? setInterval(() => this.sweep(), keepAliveMs) : null;
    this.timer?.unref();
  }

  get size(): number {
    return this.sockets.size;
  }

  [Symbol.iterator](): Iterator<WebSocket> {
    return this.sockets[Symbol.iterator]();
  }

  /** Tracks a socket that has just opened. */
  add(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('pong', this.answered);
  }

  /** Forgets a socket that has closed. */
  remove(socket: WebSocket): void {
    this.sockets.delete(socket);
    this.unanswered.delete(socket);
    if (this.sockets.size === 0) this.emptied?.();
  }

  /** Stops the keep-alive. @returns resolved once every socket has been removed. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.emptied = resolve));
  }

  private sweep(): void {
    for (const socket of this.unanswered) socket.terminate();
    this.unanswered.clear();
    for (const socket of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      this.unanswered.add(socket);
      socket.ping();
    }
  }
}
