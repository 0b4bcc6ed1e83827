import type { WebSocket } from 'ws';

/** What {@link OpenSockets} reads of the TCP socket under a WebSocket (the upgrade request's `socket`). */
export interface ByteCounter {
  readonly bytesRead: number;
}

/** Slices of one keep-alive sweep: a slice runs every `keepAliveMs / SWEEP_SLICES` ms. */
export const SWEEP_SLICES = 48;

/** A socket as {@link OpenSockets} keeps it: ws's socket, with the TCP socket under it (null: none). */
export interface KeptSocket extends WebSocket {
  readonly transport: ByteCounter | null;
}

/**
 * The open sockets of one WebSocket server, with their keep-alive on one timer: every
 * `keepAliveMs` each socket is pinged, and a socket from which nothing (no pong, no other frame)
 * has arrived since the previous ping is terminated. That is the liveness of graphql-ws's
 * `useServer` (ping every 12 s, terminate when no pong within 12 s) without a timer and a
 * `once('pong')` wrapper per socket; the heartbeat of ws's README ("How to detect and close broken
 * connections"). The pong is seen in the TCP socket's read count rather than through a `pong`
 * listener: a fourth event name grows every WebSocket's listener table by ~100 bytes.
 *
 * The sweep is cut into {@link SWEEP_SLICES} slices spread over the interval, each taking the next
 * share of the sockets: pinging every socket at once held the event loop (and every live event
 * due meanwhile) for the whole sweep, which grows with the number of sockets.
 */
export class OpenSockets<S extends KeptSocket = KeptSocket> implements Iterable<S> {
  /** Each open socket with its TCP socket's read count at the last ping (-1 before the first). */
  private readonly sockets = new Map<S, number>();
  private readonly timer: NodeJS.Timeout | null;
  /** ms between two slices of a sweep. */
  private readonly sliceMs: number;
  /** Where the sweep under way has got to (a Map iterator sees the sockets added and removed since). */
  private cursor: Iterator<[S, number]> | null = null;
  /** When the sweep under way started (ms since the epoch), and how many sockets each of its slices visits. */
  private sweepStartedAt = 0;
  private perSlice = 1;
  private emptied: (() => void) | null = null;

  /** @param keepAliveMs - ms between two pings of a socket; 0 turns keep-alive off. */
  constructor(private readonly keepAliveMs: number) {
    this.sliceMs = keepAliveMs / SWEEP_SLICES;
    this.timer = keepAliveMs > 0 ? setInterval(() => this.sweepSlice(), this.sliceMs) : null;
    this.timer?.unref();
  }

  get size(): number {
    return this.sockets.size;
  }

  [Symbol.iterator](): Iterator<S> {
    return this.sockets.keys();
  }

  /** Tracks a socket that has just opened (its `transport` set). */
  add(socket: S): void {
    this.sockets.set(socket, -1);
  }

  /** Forgets a socket that has closed. */
  remove(socket: S): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) this.emptied?.();
  }

  /** Stops the keep-alive. @returns resolved once every socket has been removed. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.emptied = resolve));
  }

  /**
   * Visits the next `1 / SWEEP_SLICES` of the sockets: terminates each from which nothing has
   * arrived since its previous ping, pings the others. A sweep starts every `keepAliveMs` (not
   * sooner, however few the sockets), so that a socket is visited about every `keepAliveMs`.
   */
  private sweepSlice(): void {
    if (this.cursor === null) {
      const now = Date.now();
      // Half a slice of slack: the timer's ticks are not exact.
      if (now - this.sweepStartedAt < this.keepAliveMs - this.sliceMs / 2) return;
      this.sweepStartedAt = now;
      this.cursor = this.sockets.entries();
      this.perSlice = Math.max(1, Math.ceil(this.sockets.size / SWEEP_SLICES));
    }
    for (let budget = this.perSlice; budget > 0; budget--) {
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return;
      }
      const [socket, readAtPing] = next.value;
      if (socket.readyState !== socket.OPEN || socket.transport === null) continue;
      const read = socket.transport.bytesRead;
      if (readAtPing === read) {
        socket.terminate();
        continue;
      }
      // Setting the value of a key the iterator has passed neither moves nor revisits it.
      this.sockets.set(socket, read);
      socket.ping();
    }
  }
}
