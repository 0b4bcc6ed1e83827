import type { WebUserFragment } from '../gql/generated';

/** A logged-in user and the token the server gave them. */
export interface Session {
  token: string;
  /** ISO time the token stops being accepted. */
  expiresAt: string;
  user: WebUserFragment;
}

const KEY = 'parley.session';

/** The session kept from an earlier visit, unless missing, malformed or expired. */
export function loadSession(now = Date.now()): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    if (!s || typeof s.token !== 'string' || !s.user?.id) return null;
    return Date.parse(s.expiresAt) > now ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}
