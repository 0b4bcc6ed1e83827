/** A user's aggregate presence status. */
export type PresenceStatusValue = 'ONLINE' | 'AWAY' | 'OFFLINE';

/** A user's live presence as the store sees it now. */
export interface LiveState {
  status: PresenceStatusValue;
  /** Live connections across every instance. */
  connectionCount: number;
  /** From the newest `setActiveConversation` among the live connections; `null` when none. */
  activeConversationId: string | null;
}

/** A user's state after a write to the store. */
export interface PresenceTransition extends LiveState {
  userId: string;
  /**
   * `true` when status or active conversation differ from what was last announced for this user
   * (decided atomically with the write, so exactly one caller publishes each change).
   */
  changed: boolean;
  /** Grows with every change of this user: lets subscribers drop late, older events. */
  version: number;
  /**
   * ms since the epoch: when a connection of this user was last known alive (now for a clean
   * disconnect, the last heartbeat for an expired one); 0 when no connection ended.
   */
  lastSeenMs: number;
}

/** One WebSocket connection, owned by the instance that accepted it. */
export interface ConnectionRef {
  connectionId: string;
  userId: string;
  sessionId: string;
}

/** Which live connections of a user `setActiveConversation` applies to. */
export interface ActiveTarget {
  /** Over WebSocket: the very connection that asked. */
  connectionId?: string;
  /** Over HTTP: the connections opened with this session, else all of the user's. */
  sessionId?: string;
}

/**
 * Where live presence is kept: per-connection entries that expire `ttlMs` after their owning
 * instance last refreshed them, plus each user's AWAY flag and last announced state. Redis in a
 * deployment, in-process on the embedded default. Every write returns the user's
 * {@link PresenceTransition}; the caller publishes those that changed.
 */
export interface PresenceStore {
  /** Adds live connections, in order. @returns each one's transition, in the same order. */
  connect(instanceId: string, conns: readonly ConnectionRef[]): Promise<PresenceTransition[]>;
  /** Removes connections (closed cleanly), in order. @returns each one's transition, in the same order. */
  disconnect(instanceId: string, conns: readonly ConnectionRef[]): Promise<PresenceTransition[]>;
  /**
   * Refreshes an instance's connections. Entries that are gone (expired during a long pause, or a
   * Redis restart) are added again, and the users it changes marked as {@link sweep} does.
   * @returns the changed transitions of re-added users.
   */
  heartbeat(instanceId: string, conns: readonly ConnectionRef[]): Promise<PresenceTransition[]>;
  /** Sets (AWAY) or clears (ONLINE) the user's AWAY flag, which lasts while they are connected. */
  setStatus(userId: string, status: 'ONLINE' | 'AWAY'): Promise<PresenceTransition>;
  /**
   * Sets the active conversation (or clears it with `null`) on the user's live connections
   * chosen by `target`. @returns the transition and how many connections it was set on.
   */
  setActive(
    userId: string,
    target: ActiveTarget,
    conversationId: string | null,
  ): Promise<PresenceTransition & { applied: number }>;
  /** The live state of each user, in order, in one round trip. */
  read(userIds: readonly string[]): Promise<LiveState[]>;
  /**
   * Removes up to `limit` expired entries of any instance (one that died without running its
   * disconnect handlers). The users it changes stay marked until {@link announced}: a later sweep,
   * on any instance, returns the current state of a user still marked after `graceMs` as changed,
   * so that a change whose sweep reply was lost (a command timeout) is announced all the same.
   * @returns the changed transitions.
   */
  sweep(limit: number, graceMs: number): Promise<PresenceTransition[]>;
  /** Clears the marks of {@link sweep}, {@link heartbeat} and {@link clearInstance} of users whose changes were announced. */
  announced(userIds: readonly string[]): Promise<void>;
  /**
   * Removes every entry of an instance (left by its previous run, or at its stop). Marks the users
   * it changes as {@link sweep} does. @returns the changed transitions.
   */
  clearInstance(instanceId: string): Promise<PresenceTransition[]>;
}
