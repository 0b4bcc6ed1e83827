import type { WebSocket } from 'ws';

/** WebSocket close code for authentication failures (graphql-ws uses it for a refused connection_init). */
export const CLOSE_FORBIDDEN = 4403;
/** setTimeout's largest delay, in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The open sockets of this instance by session, so that a logout (announced by any instance)
 * closes the sockets opened with that token, and each socket closes when its token expires.
 */
export class SessionSockets {
  private readonly bySession = new Map<string, Set<WebSocket>>();

  /**
   * Tracks a socket until it closes, and closes it with 4403 at `expiresAt`.
   * @param onExpire - called when the expiry closes it (metrics).
   */
  track(sessionId: string, socket: WebSocket, expiresAt: Date, onExpire: () => void): void {
    let sockets = this.bySession.get(sessionId);
    if (!sockets) this.bySession.set(sessionId, (sockets = new Set()));
    sockets.add(socket);
    let timer: NodeJS.Timeout;
    const arm = () => {
      const ms = expiresAt.getTime() - Date.now();
      if (ms <= 0) {
        onExpire();
        socket.close(CLOSE_FORBIDDEN, 'Token expired');
        return;
      }
      timer = setTimeout(arm, Math.min(ms, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    socket.once('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
      if (sockets.size === 0) this.bySession.delete(sessionId);
    });
  }

  /** Closes every socket of a session with 4403. @returns how many were closed. */
  closeSession(sessionId: string, reason: string): number {
    const sockets = this.bySession.get(sessionId);
    if (!sockets) return 0;
    for (const socket of sockets) socket.close(CLOSE_FORBIDDEN, reason);
    return sockets.size;
  }
}
