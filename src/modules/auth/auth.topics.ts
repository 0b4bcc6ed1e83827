/** A session was revoked (logout): sockets opened with it must close with 4403. */
export interface SessionRevokedPayload {
  sessionId: string;
}

/** {@link SessionRevokedPayload}s for every instance (a control channel, one subscription each). */
export const sessionRevokedTopic = () => 'sessions.revoked';
