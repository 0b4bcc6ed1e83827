import type { Db } from '../../db/sql';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { SessionSocketControl } from '../module';
import { selectExistingSessionIds } from './auth.sql';
import type { SessionCache } from './session.store';

/**
 * Re-validates the sessions of this instance's open sockets every `periodMs`, against the
 * `sessions` table (the truth) in one query for all of them, and closes with 4403 the sockets of
 * sessions that are gone. The `sessionRevoked` event closes them at once; this bounds how long a
 * socket stays open when that event never reaches this instance (a pub/sub outage or a dropped
 * message): `periodMs` plus one query. When the database cannot answer, a round is skipped.
 */
export class SessionSocketCheck {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  /** @param periodMs - ms between rounds. */
  constructor(
    private readonly db: Db,
    private readonly sockets: SessionSocketControl,
    private readonly sessions: SessionCache,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly periodMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round (skipped while the previous one runs). @returns how many sockets were closed. */
  async check(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const open = this.sockets.openSessions();
      if (open.length === 0) return 0;
      const existing = new Set(await selectExistingSessionIds(this.db.sql, open));
      let closed = 0;
      for (const sessionId of open) {
        if (existing.has(sessionId)) continue;
        this.sessions.forget(sessionId);
        closed += this.sockets.closeSession(sessionId, 'Session revoked');
      }
      if (closed) this.metrics.wsRejected.inc({ reason: 'revoked' }, closed);
      return closed;
    } catch (err) {
      this.log.warn({ err }, 're-validating the sessions of open sockets failed');
      return 0;
    } finally {
      this.running = false;
    }
  }
}
