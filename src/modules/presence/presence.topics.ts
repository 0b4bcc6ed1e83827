import { Presence, PresenceStatus } from './presence.types';

/** A user's presence after a real change (status or active conversation). JSON-safe. */
export interface PresenceChangedPayload {
  userId: string;
  status: 'ONLINE' | 'AWAY' | 'OFFLINE';
  connectionCount: number;
  activeConversationId: string | null;
  /** ISO-8601; the change's time while connected, the last connection's end once OFFLINE. */
  lastSeenAt: string | null;
  /**
   * Grows with every change of this user (assigned atomically with it), so that a subscriber
   * drops an older change that reaches it late from another instance.
   */
  version: number;
}

/** {@link PresenceChangedPayload}s of one user: real changes of their presence. */
export const userPresenceTopic = (userId: string) => `user.${userId}.presence`;

/** Rebuilds a {@link Presence} from its payload (the ISO `lastSeenAt` back to a `Date`). */
export function presenceFromPayload(p: PresenceChangedPayload): Presence {
  return Object.assign(new Presence(), {
    ...p,
    status: p.status as PresenceStatus,
    lastSeenAt: p.lastSeenAt ? new Date(p.lastSeenAt) : null,
  });
}
