import { CloseCode } from 'graphql-ws';

/** What {@link InitDeadlines} needs of a socket: ws's `readyState` and `close`. */
interface ClosableSocket {
  readonly readyState: number;
  readonly OPEN: number;
  close(code: number, reason: string): void;
}

/** How long a new socket may take to send `connection_init`, ms (graphql-ws's default). */
export const CONNECTION_INIT_WAIT_MS = 3_000;

/**
 * The `connection_init` deadline of every new socket, on one timer: a socket that has not sent
 * `connection_init` within `waitMs` of opening is closed with 4408 (Connection initialisation
 * timeout), as graphql-ws's `connectionInitWaitTimeout` does. graphql-ws keeps a timer and its
 * closure per socket for the socket's whole life (its close handler clears the timer); here a
 * socket is held only until its `connection_init` arrives. Every socket waits equally long, so
 * the sockets are in deadline order in the Map (opening order) and the timer is set for the first.
 */
export class InitDeadlines<S extends ClosableSocket> {
  /** Sockets waiting for `connection_init`, by deadline (`performance.now()` ms). */
  private readonly waiting = new Map<S, number>();
  private timer: NodeJS.Timeout | null = null;

  /** @param waitMs - how long a socket may wait, ms. */
  constructor(private readonly waitMs = CONNECTION_INIT_WAIT_MS) {}

  /** How many sockets are waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Starts the wait of a socket that has just opened. */
  add(socket: S): void {
    this.waiting.set(socket, performance.now() + this.waitMs);
    if (this.timer === null) this.arm(this.waitMs);
  }

  /** Ends the wait of `socket`: its `connection_init` arrived, or it closed. */
  delete(socket: S): void {
    this.waiting.delete(socket);
  }

  /** Stops the timer and forgets every waiting socket. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.clear();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), ms);
    this.timer.unref();
  }

  /** Closes the sockets whose deadline has passed, then waits for the next deadline. */
  private expire(): void {
    this.timer = null;
    const now = performance.now();
    for (const [socket, deadline] of this.waiting) {
      if (deadline > now) {
        this.arm(deadline - now);
        return;
      }
      this.waiting.delete(socket);
      if (socket.readyState === socket.OPEN)
        socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }
  }
}
