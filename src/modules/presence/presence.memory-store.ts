import type { LiveState, PresenceStore, PresenceTransition } from './presence.store';

interface Entry {
  instanceId: string;
  sessionId: string;
  /** ms of the last refresh */
  refreshedAt: number;
  /** ms */
  expiresAt: number;
  active: string | null;
  /** order of the setActiveConversation that set `active` (0: never) */
  activeOrder: number;
}

interface UserRecord {
  conns: Map<string, Entry>;
  away: boolean;
  /** "STATUS|active" last announced */
  announced: string;
  version: number;
  activeCounter: number;
}

/**
 * The {@link PresenceStore} of the embedded default: the same semantics as the Redis store
 * (entries expire `ttlMs` after their last refresh) in this process's memory.
 */
export function createMemoryPresenceStore(ttlMs: number): PresenceStore {
  const users = new Map<string, UserRecord>();
  const record = (userId: string): UserRecord => {
    let r = users.get(userId);
    if (!r)
      users.set(userId, (r = { conns: new Map(), away: false, announced: 'OFFLINE|', version: 0, activeCounter: 0 }));
    return r;
  };
  const live = (e: Entry, now: number) => e.expiresAt > now;
  const entry = (instanceId: string, sessionId: string): Entry => {
    const now = Date.now();
    return { instanceId, sessionId, refreshedAt: now, expiresAt: now + ttlMs, active: null, activeOrder: 0 };
  };

  const stateOf = (r: UserRecord | undefined, now: number): LiveState => {
    let connectionCount = 0;
    let best: Entry | null = null;
    for (const e of r?.conns.values() ?? []) {
      if (!live(e, now)) continue;
      connectionCount++;
      if (!best || e.activeOrder > best.activeOrder) best = e;
    }
    const status = connectionCount === 0 ? 'OFFLINE' : r!.away ? 'AWAY' : 'ONLINE';
    return { status, connectionCount, activeConversationId: best?.active ?? null };
  };

  /** Purges expired entries and records a change against the last announced state. */
  const settle = (userId: string, seen: number): PresenceTransition => {
    const now = Date.now();
    const r = record(userId);
    for (const [id, e] of r.conns) {
      if (live(e, now)) continue;
      r.conns.delete(id);
      seen = Math.max(seen, e.refreshedAt);
    }
    const state = stateOf(r, now);
    const key = `${state.status}|${state.activeConversationId ?? ''}`;
    const changed = key !== r.announced;
    if (changed) {
      r.announced = key;
      r.version = Math.max(r.version + 1, now);
    }
    if (state.connectionCount === 0) {
      r.away = false;
      if (r.conns.size === 0 && key === 'OFFLINE|') users.delete(userId);
    }
    return { userId, ...state, changed, version: r.version, lastSeenMs: seen };
  };

  return {
    async connect(instanceId, conns) {
      return conns.map((c) => {
        record(c.userId).conns.set(c.connectionId, entry(instanceId, c.sessionId));
        return settle(c.userId, 0);
      });
    },
    async disconnect(_instanceId, conns) {
      return conns.map((c) => {
        users.get(c.userId)?.conns.delete(c.connectionId);
        return settle(c.userId, Date.now());
      });
    },
    async heartbeat(instanceId, conns) {
      const changed: PresenceTransition[] = [];
      for (const c of conns) {
        const existing = users.get(c.userId)?.conns.get(c.connectionId);
        if (existing) {
          existing.refreshedAt = Date.now();
          existing.expiresAt = existing.refreshedAt + ttlMs;
          continue;
        }
        record(c.userId).conns.set(c.connectionId, entry(instanceId, c.sessionId));
        const t = settle(c.userId, 0);
        if (t.changed) changed.push(t);
      }
      return changed;
    },
    async setStatus(userId, status) {
      record(userId).away = status === 'AWAY';
      return settle(userId, 0);
    },
    async setActive(userId, target, conversationId) {
      const r = record(userId);
      const now = Date.now();
      const all = [...r.conns.entries()].filter(([, e]) => live(e, now));
      let targets = target.connectionId
        ? all.filter(([id]) => id === target.connectionId)
        : all.filter(([, e]) => e.sessionId === target.sessionId);
      if (!target.connectionId && targets.length === 0) targets = all;
      if (targets.length) r.activeCounter++;
      for (const [, e] of targets) Object.assign(e, { active: conversationId, activeOrder: r.activeCounter });
      return { ...settle(userId, 0), applied: targets.length };
    },
    async read(userIds) {
      const now = Date.now();
      return userIds.map((id) => stateOf(users.get(id), now));
    },
    // In-process: a sweep's result cannot be lost on its way, so nothing is marked.
    async announced() {},
    async sweep(limit) {
      const now = Date.now();
      const due = [...users.entries()]
        .filter(([, r]) => [...r.conns.values()].some((e) => !live(e, now)))
        .slice(0, limit);
      return due.map(([id]) => settle(id, 0)).filter((t) => t.changed);
    },
    async clearInstance(instanceId) {
      const changed: PresenceTransition[] = [];
      for (const [userId, r] of [...users.entries()]) {
        let seen = -1;
        for (const [id, e] of r.conns) {
          if (e.instanceId !== instanceId) continue;
          r.conns.delete(id);
          seen = Math.max(seen, e.refreshedAt);
        }
        if (seen < 0) continue;
        const t = settle(userId, seen);
        if (t.changed) changed.push(t);
      }
      return changed;
    },
  };
}
