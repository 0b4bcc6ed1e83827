import type { WebSocket } from 'ws';

/** What {@link OpenSockets} reads of the TCP socket under a WebSocket (the upgrade request's `socket`). */
export interface ByteCounter {
  readonly bytesRead: number;
}

/**
 * The open sockets of one WebSocket server, with their keep-alive on one timer: every
 * `keepAliveMs` each socket is pinged, and a socket from which nothing (no pong, no other frame)
 * has arrived since the previous ping is terminated. That is the liveness of graphql-ws's
 * `useServer` (ping every 12 s, terminate when no pong within 12 s) without a timer and a
 * `once('pong')` wrapper per socket; the heartbeat of ws's README ("How to detect and close broken
 * connections"). The pong is seen in the TCP socket's read count rather than through a `pong`
 * listener: a fourth event name grows every WebSocket's listener table by ~100 bytes.
 */
export class OpenSockets implements Iterable<WebSocket> {
  /** Each open socket with its TCP socket's read count at the last ping (-1: not pinged yet). */
  private readonly sockets = new Map<WebSocket, { tcp: ByteCounter; readAtPing: number }>();
  private readonly timer: NodeJS.Timeout | null;
  private emptied: (() => void) | null = null;

  /** @param keepAliveMs - ms between pings; 0 turns keep-alive off. */
  constructor(keepAliveMs: number) {
    this.timer = keepAliveMs > 0 ? setInterval(() => this.sweep(), keepAliveMs) : null;
    this.timer?.unref();
  }

  get size(): number {
    return this.sockets.size;
  }

  [Symbol.iterator](): Iterator<WebSocket> {
    return this.sockets.keys();
  }

  /** Tracks a socket that has just opened. */
  add(socket: WebSocket, tcp: ByteCounter): void {
    this.sockets.set(socket, { tcp, readAtPing: -1 });
  }

  /** Forgets a socket that has closed. */
  remove(socket: WebSocket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) this.emptied?.();
  }

  /** Stops the keep-alive. @returns resolved once every socket has been removed. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.emptied = resolve));
  }

  private sweep(): void {
    for (const [socket, state] of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      if (state.readAtPing === state.tcp.bytesRead) {
        socket.terminate();
        continue;
      }
      state.readAtPing = state.tcp.bytesRead;
      socket.ping();
    }
  }
}
