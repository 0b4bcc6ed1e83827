import type { WebSocket } from 'ws';

/** WebSocket close code for authentication failures (graphql-ws uses it for a refused connection_init). */
export const CLOSE_FORBIDDEN = 4403;
/** setTimeout's largest delay, in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The open sockets of this instance by session, so that a logout (announced by any instance)
 * closes the sockets opened with that token, and each socket closes when its token expires.
 *
 * Expiry runs on one timer for all sockets, armed for the earliest expiry: sockets are grouped by
 * expiry time (a token's `exp` has whole seconds, so the sockets opened within one second with
 * fresh tokens share a group). A timer per socket cost a Timeout object and two closures per
 * connection (heap snapshots of the connections benchmark).
 */
export class SessionSockets {
  /** One socket, or several, per session id. */
  private readonly bySession = new Map<string, WebSocket | Set<WebSocket>>();
  /** Sockets by expiry (epoch ms), each with what to call when the expiry closes it. */
  private readonly byExpiry = new Map<number, Map<WebSocket, () => void>>();
  /** The keys of {@link byExpiry}, ascending. */
  private readonly expiries: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  /**
   * Tracks a socket until {@link untrack}, and closes it with 4403 ("Token expired") at
   * `expiresAt` (at once when that has passed).
   * @param onExpire - called when the expiry closes it (metrics); share one function between sockets.
   */
  track(sessionId: string, socket: WebSocket, expiresAt: Date, onExpire: () => void): void {
    const sockets = this.bySession.get(sessionId);
    if (!sockets) this.bySession.set(sessionId, socket);
    else if (sockets instanceof Set) sockets.add(socket);
    else this.bySession.set(sessionId, new Set([sockets, socket]));

    const at = expiresAt.getTime();
    let group = this.byExpiry.get(at);
    if (!group) {
      this.byExpiry.set(at, (group = new Map<WebSocket, () => void>()));
      this.expiries.splice(sortedIndex(this.expiries, at), 0, at);
    }
    group.set(socket, onExpire);
    this.arm();
  }

  /** Forgets a socket (call it when the socket closes). */
  untrack(sessionId: string, socket: WebSocket, expiresAt: Date): void {
    const sockets = this.bySession.get(sessionId);
    if (sockets === socket) this.bySession.delete(sessionId);
    else if (sockets instanceof Set) {
      sockets.delete(socket);
      if (sockets.size === 0) this.bySession.delete(sessionId);
    }
    const at = expiresAt.getTime();
    const group = this.byExpiry.get(at);
    if (group?.delete(socket) && group.size === 0) {
      this.byExpiry.delete(at);
      this.expiries.splice(sortedIndex(this.expiries, at), 1);
    }
  }

  /** Closes every socket of a session with 4403. @returns how many were closed. */
  closeSession(sessionId: string, reason: string): number {
    const sockets = this.bySession.get(sessionId);
    if (!sockets) return 0;
    if (!(sockets instanceof Set)) {
      sockets.close(CLOSE_FORBIDDEN, reason);
      return 1;
    }
    for (const socket of sockets) socket.close(CLOSE_FORBIDDEN, reason);
    return sockets.size;
  }

  /** The ids of the sessions with an open socket, each once. */
  openSessions(): string[] {
    return Array.from(this.bySession.keys());
  }

  /** Closes the sockets whose expiry has come, then arms the timer for the next one. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = Date.now();
    while (this.expiries.length && this.expiries[0] <= now) {
      const at = this.expiries.shift()!;
      const group = this.byExpiry.get(at)!;
      this.byExpiry.delete(at);
      for (const [socket, onExpire] of group) {
        onExpire();
        socket.close(CLOSE_FORBIDDEN, 'Token expired');
      }
    }
    this.arm();
  }

  private arm(): void {
    const next = this.expiries[0];
    if (next === undefined || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.expire(), Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS));
    this.timer.unref();
  }
}

/** Where `value` goes in the ascending `sorted` (its index when present). */
function sortedIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
