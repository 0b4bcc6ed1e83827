import type { Candidate } from './notifications.sql';
import { NotifyWhen } from './notifications.types';

/** What the decision needs of a recipient's live presence (from the shared presence store). */
export interface PresenceView {
  status: 'ONLINE' | 'AWAY' | 'OFFLINE';
  activeConversationId: string | null;
}

/**
 * Whether a candidate is notified of an event in `conversationId` (the caller has left the sender
 * out): never when muted (`honourMute`) or NEVER; always when ALWAYS; with WHEN_AWAY unless they
 * are ONLINE with `conversationId` as their active conversation. A missing presence counts as OFFLINE.
 */
export function shouldNotify(
  c: Candidate,
  presence: PresenceView | null,
  conversationId: string,
  honourMute: boolean,
): boolean {
  if (honourMute && c.muted) return false;
  switch (c.notifyWhen) {
    case NotifyWhen.NEVER:
      return false;
    case NotifyWhen.ALWAYS:
      return true;
    default:
      return !(presence?.status === 'ONLINE' && presence.activeConversationId === conversationId);
  }
}
