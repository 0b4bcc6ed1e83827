import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from '../../db/sql';
import type { EventBus } from '../../pubsub/event-bus';
import { badInput, forbidden, notFound } from '../../shared/errors';
import { checkId } from '../../shared/ids';
import { setUpLoader } from '../../shared/loader';
import type { Logger } from '../../shared/logger';
import type { ConversationsService } from '../conversations/conversations.service';
import { selectContacts, selectContactsAmong, selectLastSeen, updateLastSeen } from './presence.sql';
import type { ConnectionRef, LiveState, PresenceStore, PresenceTransition } from './presence.store';
import { userPresenceTopic, type PresenceChangedPayload } from './presence.topics';
import { Presence, PresenceStatus } from './presence.types';

/** Most users one `presence(userIds)` or `presenceChanged(userIds)` may name. */
export const MAX_PRESENCE_USERS = 100;
/** Expired entries handled per sweep tick. */
const SWEEP_LIMIT = 1000;
/**
 * How long a change found by a sweep may stay unannounced before another sweep announces it, ms:
 * far longer than announcing takes (one statement and one publish), so that it is only ever the
 * change of a sweep whose reply was lost.
 */
const SWEEP_ANNOUNCE_GRACE_MS = 5_000;
/**
 * Waits before each new attempt of a failed batch of connects or disconnects, ms: together longer
 * than a slow Redis takes to catch up with a burst (10,000 sockets closing at once), shorter than a
 * presence entry's TTL.
 */
const REWRITE_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];

/**
 * The transition of a change a user asked for, announced whether the write changed anything or
 * not while the user is connected: when the same request timed out earlier after running in Redis,
 * the change is stored and this retry is the only chance to announce it. A `presenceChanged`
 * stream drops a version it has seen, so a state announced twice reaches nobody twice.
 */
function asked(t: PresenceTransition): PresenceTransition {
  return t.status === 'OFFLINE' ? t : { ...t, changed: true };
}

/** Timings and identity of this instance's presence work. */
export interface PresenceOptions {
  /** This instance's stable name (INSTANCE_ID). */
  instanceId: string;
  /** ms between refreshes of this instance's connection entries. */
  heartbeatMs: number;
  /** ms between sweeps for expired entries of any instance. */
  sweepMs: number;
}

/** Who calls `setActiveConversation`, and over which connection (none over HTTP). */
export interface PresenceViewer {
  userId: string;
  sessionId: string;
  connectionId?: string;
}

/**
 * Presence: a user is ONLINE while they hold a live WebSocket on any instance, AWAY when they
 * said so and are still connected, OFFLINE otherwise. Each connection is an entry in the
 * {@link PresenceStore} that this instance refreshes every `heartbeatMs`; an entry whose instance
 * died expires and is swept by any instance within TTL + `sweepMs`. Real changes (first
 * connection, last disconnection, status, active conversation) are published on the user's
 * topic after `users.last_seen_at` is written.
 */
export class PresenceService {
  /** This instance's connections, refreshed by the heartbeat. */
  private readonly local = new Map<string, ConnectionRef>();
  /**
   * The connects of {@link local} still being written, by connection id: a disconnect waits for
   * its connect. Only while under way: an idle connection keeps no settled promise here.
   */
  private readonly connecting = new Map<string, Promise<void>>();
  /**
   * The batches of connects and disconnects written again after a failed attempt, by connection
   * id (see {@link writeBatch}): a socket did not wait for its connect's, its disconnect does.
   * Only while under way.
   */
  private readonly rewriting = new Map<string, Promise<void>>();
  /** Aborted by {@link stop}: a batch waiting to be written again gives up (stop clears every entry). */
  private readonly stopSignal = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Set by {@link stop}: the instance's entries are cleared in one batch. */
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** The heartbeat under way: a disconnect waits for it, so it cannot re-add a closed connection. */
  private beat: Promise<void> = Promise.resolve();
  /**
   * The connections accepted / closed within one set-up batch (SET_UP_LINGER_MS), written to the store in one
   * script call and announced with one `last_seen_at` statement: sockets arrive by the thousand
   * when an instance dies and its clients reconnect here.
   */
  private readonly connects = setUpLoader<ConnectionRef, void>((refs) =>
    this.writeBatch(refs, () => this.store.connect(this.options.instanceId, refs)),
  );
  private readonly disconnects = setUpLoader<ConnectionRef, void>((refs) =>
    this.writeBatch(refs, () => this.store.disconnect(this.options.instanceId, refs)),
  );

  /** @param options - this instance's name and timings (from the config). */
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly store: PresenceStore,
    private readonly conversations: ConversationsService,
    private readonly log: Logger,
    private readonly options: PresenceOptions,
  ) {
    // Every batch waiting to be written again listens to it: during a Redis outage, more than
    // Node's default of 10 (each listener goes when its wait ends).
    setMaxListeners(0, this.stopSignal.signal);
  }

  /**
   * Clears the entries this instance left when it last stopped without its disconnect handlers
   * (announcing those users OFFLINE), then starts the heartbeat and the sweep.
   * @throws when the store cannot be reached.
   */
  async start(): Promise<void> {
    await this.announceMarked(await this.store.clearInstance(this.options.instanceId));
    this.timers.push(
      this.every(this.options.heartbeatMs, () => (this.beat = this.heartbeat())),
      this.every(this.options.sweepMs, () => this.sweep()),
    );
  }

  /**
   * Stops the timers and removes this instance's connections in one store call (announcing who
   * went OFFLINE) rather than one write per closing socket. Call it before the sockets close: a
   * {@link connect} or {@link disconnect} after it does nothing. Idempotent; never rejects.
   */
  stop(): Promise<void> {
    this.stopped ??= this.clearAll();
    return this.stopped;
  }

  private async clearAll(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...this.connecting.values()]);
    this.local.clear();
    this.connecting.clear();
    await this.track(this.store.clearInstance(this.options.instanceId).then((t) => this.announceMarked(t)));
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * The hook of an accepted WebSocket: registers the connection. Never rejects: when the store
   * fails, the failure is logged and the write is made again in the background (the heartbeat
   * adds the entry should that fail too). Nothing after {@link stop}.
   */
  connect(ref: ConnectionRef): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const { connectionId } = ref;
    const ready = this.track(this.connects.load(ref));
    this.local.set(connectionId, ref);
    this.connecting.set(connectionId, ready);
    // Connection ids are never reused: deleting after a disconnect already did is a no-op.
    void ready.then(() => this.connecting.delete(connectionId));
    return ready;
  }

  /**
   * The hook of a closed WebSocket: removes the connection once its {@link connect} (and a
   * heartbeat under way) settled. Nothing for an unknown connection, or after {@link stop}.
   * Never rejects.
   */
  disconnect(connectionId: string): Promise<void> {
    const ref = this.local.get(connectionId);
    if (!ref) return Promise.resolve();
    const connected = this.connecting.get(connectionId);
    this.local.delete(connectionId);
    this.connecting.delete(connectionId);
    return this.track(
      Promise.all([connected, this.beat.catch(() => undefined)])
        // The connect's first attempt has settled: then the attempts made again after it failed, if any.
        .then(() => this.rewriting.get(connectionId))
        .then(() => this.disconnects.load(ref)),
    );
  }

  /**
   * `setPresenceStatus`: AWAY lasts while the user stays connected (a new first connection is
   * ONLINE again). Without a live connection the user stays OFFLINE.
   * @throws DomainError BAD_USER_INPUT for OFFLINE.
   */
  async setStatus(userId: string, status: PresenceStatus): Promise<Presence> {
    if (status === PresenceStatus.OFFLINE) throw badInput('status must be ONLINE or AWAY', 'status');
    const t = await this.store.setStatus(userId, status);
    await this.announce([asked(t)]);
    return (await this.withLastSeen([t]))[0]!;
  }

  /**
   * `setActiveConversation`: over a WebSocket it marks that connection (and clears when it
   * closes); over HTTP it marks the live connections opened with the same token, or all of the
   * user's if there are none. A user with no live connection has nothing to mark: the result is
   * OFFLINE with no active conversation.
   * @throws DomainError BAD_USER_INPUT for a malformed id; NOT_FOUND / FORBIDDEN when the
   *   conversation does not exist / the viewer is not a participant.
   */
  async setActiveConversation(viewer: PresenceViewer, conversationId: string | null): Promise<Presence> {
    const id =
      conversationId === null ? null : (await this.conversations.requireParticipant(viewer.userId, conversationId)).id;
    const target = viewer.connectionId ? { connectionId: viewer.connectionId } : { sessionId: viewer.sessionId };
    const t = await this.store.setActive(viewer.userId, target, id);
    await this.announce([asked(t)]);
    return (await this.withLastSeen([t]))[0]!;
  }

  /**
   * `presence(userIds)`: in the order asked.
   * @throws DomainError BAD_USER_INPUT for malformed ids or more than 100; NOT_FOUND for an
   *   unknown user.
   */
  async get(userIds: readonly string[]): Promise<Presence[]> {
    if (userIds.length > MAX_PRESENCE_USERS) throw badInput(`at most ${MAX_PRESENCE_USERS} userIds`, 'userIds');
    const ids = userIds.map((id) => checkId(id, 'userIds'));
    const found = await this.readMany(ids);
    const missing = ids.filter((_, i) => !found[i]);
    if (missing.length) throw notFound(`no user with id ${[...new Set(missing)].join(', ')}`);
    return found as Presence[];
  }

  /**
   * The presence of many users: one store round trip and one SQL query, whatever their number
   * (the `User.presence` loader). `null` for an id with no user.
   */
  async readMany(userIds: readonly string[]): Promise<Array<Presence | null>> {
    const states = await this.store.read(userIds);
    return this.withLastSeen(
      states.map((s, i) => ({ ...s, userId: userIds[i] })),
      true,
    );
  }

  /**
   * The live status and active conversation of many users, from the shared presence store only
   * (one round trip, no SQL: no last-seen time), in the order asked. For deciding notifications.
   */
  liveStates(userIds: readonly string[]): Promise<LiveState[]> {
    return this.store.read(userIds);
  }

  /**
   * Checks that the viewer shares a conversation with each user (themselves included).
   * @throws DomainError BAD_USER_INPUT for malformed ids or more than 100; FORBIDDEN otherwise.
   */
  async requireContacts(viewerId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length > MAX_PRESENCE_USERS) throw badInput(`at most ${MAX_PRESENCE_USERS} userIds`, 'userIds');
    const ids = [...new Set(userIds.map((id) => checkId(id, 'userIds')))];
    const shared = new Set(await selectContactsAmong(this.db.sql, viewerId, ids));
    if (ids.some((id) => !shared.has(id))) throw forbidden('you share no conversation with some of userIds');
    return ids;
  }

  /**
   * Everyone who shares a conversation with the user, or with `conversationId` that
   * conversation's participants; never the user. No membership check.
   */
  async contactsOf(userId: string, conversationId?: string): Promise<string[]> {
    const ids = conversationId
      ? await this.conversations.participantIdsOf(conversationId)
      : await selectContacts(this.db.sql, userId);
    return ids.filter((id) => id !== userId);
  }

  private async heartbeat(): Promise<void> {
    const refs = [...this.local.values()];
    if (refs.length) await this.announceMarked(await this.store.heartbeat(this.options.instanceId, refs));
  }

  /** Announces the users whose entries expired, and changes of a sweep, heartbeat or clearing left unannounced. */
  private async sweep(): Promise<void> {
    await this.announceMarked(await this.store.sweep(SWEEP_LIMIT, SWEEP_ANNOUNCE_GRACE_MS));
  }

  /**
   * Announces the changes of a sweep, a heartbeat or an instance's clearing, then clears their marks; a change
   * whose reply or announcement was lost is announced by a later sweep ({@link PresenceStore.sweep}).
   */
  private async announceMarked(transitions: readonly PresenceTransition[]): Promise<void> {
    if (!transitions.length) return;
    await this.announce(transitions);
    await this.store.announced(transitions.map((t) => t.userId));
  }

  /**
   * Writes a batch of connects or disconnects and announces its transitions. A write that failed
   * may have run in Redis all the same (a command timeout while Redis is slow): its changes are
   * stored, and no later write would announce them, since it finds nothing left to change. So a
   * failed write is made again (connect and disconnect are idempotent) after each of
   * {@link REWRITE_DELAYS_MS} until it succeeds, in the background (a socket waits for the first
   * attempt only; its disconnect waits for all of them), and its users' states are then announced
   * whether they changed or not: a subscriber drops a version it has seen, so nobody gets one
   * twice. An announcement that fails is logged once for the batch; the store's write stands
   * (readers see it).
   */
  private async writeBatch(
    refs: readonly ConnectionRef[],
    write: () => Promise<PresenceTransition[]>,
  ): Promise<void[]> {
    try {
      await this.announceBatch(await write());
    } catch (err) {
      this.log.warn({ err }, 'presence update failed; writing it again');
      const again = this.track(
        this.writeAgain(write).then((transitions) =>
          this.announceBatch(transitions.map((t) => ({ ...t, changed: true }))),
        ),
      );
      for (const { connectionId } of refs) this.rewriting.set(connectionId, again);
      void again.then(() => refs.forEach(({ connectionId }) => this.rewriting.delete(connectionId)));
    }
    return refs.map(() => undefined);
  }

  /** Makes `write` again after each of {@link REWRITE_DELAYS_MS}; rejects with the last failure, or once stopped. */
  private async writeAgain(write: () => Promise<PresenceTransition[]>): Promise<PresenceTransition[]> {
    for (let attempt = 0; ; attempt++) {
      await delay(REWRITE_DELAYS_MS[attempt], undefined, { ref: false, signal: this.stopSignal.signal });
      try {
        return await write();
      } catch (err) {
        if (attempt === REWRITE_DELAYS_MS.length - 1) throw err;
      }
    }
  }

  private async announceBatch(transitions: readonly PresenceTransition[]): Promise<void> {
    await this.announce(transitions).catch((err: unknown) => this.log.warn({ err }, 'presence update failed'));
  }

  /** Writes `users.last_seen_at` of the changed users, then publishes each change (failures logged once for the batch). */
  private async announce(transitions: readonly PresenceTransition[]): Promise<void> {
    const changed = transitions.filter((t) => t.changed);
    if (!changed.length) return;
    const now = Date.now();
    const rows = await updateLastSeen(
      this.db.sql,
      changed.map((t) => t.userId),
      changed.map((t) => new Date(t.status === 'OFFLINE' && t.lastSeenMs > 0 ? t.lastSeenMs : now)),
    );
    const seen = new Map(rows.map((r) => [r.id, r.lastSeenAt]));
    const failed: Array<{ userId: string; err: unknown }> = [];
    await Promise.all(
      changed.map(async (t) => {
        const lastSeenAt = t.status === 'OFFLINE' ? (seen.get(t.userId) ?? null) : new Date(now);
        const payload: PresenceChangedPayload = {
          userId: t.userId,
          status: t.status,
          connectionCount: t.connectionCount,
          activeConversationId: t.activeConversationId,
          lastSeenAt: lastSeenAt?.toISOString() ?? null,
          version: t.version,
        };
        try {
          await this.bus.publish(userPresenceTopic(t.userId), payload);
        } catch (err) {
          failed.push({ userId: t.userId, err });
        }
      }),
    );
    // The store holds the truth; readers see it, and live subscribers on the next change. One line
    // for the batch: a mass disconnect on a slow Redis logged one per user (dozens at once), and a
    // publish that timed out may still have been written and delivered late.
    if (failed.length) {
      const { err, userId } = failed[0];
      this.log.error({ err, users: failed.length, firstUserId: userId }, 'publishing presence changes failed');
    }
  }

  /**
   * Builds {@link Presence}s: `lastSeenAt` is now while connected, else `users.last_seen_at`.
   * @param all - read `users` for every id (to tell unknown ids, given as `null`), not only the offline.
   */
  private async withLastSeen(
    states: Array<LiveState & { userId: string; version?: number }>,
    all = false,
  ): Promise<Array<Presence | null>> {
    const now = new Date();
    const ask = [...new Set(states.filter((s) => all || s.status === 'OFFLINE').map((s) => s.userId))];
    const rows = ask.length ? await selectLastSeen(this.db.sql, ask) : [];
    const known = new Map(rows.map((r) => [r.id, r.lastSeenAt]));
    return states.map((s) => {
      if (all && !known.has(s.userId)) return null;
      return Object.assign(new Presence(), {
        userId: s.userId,
        status: s.status as PresenceStatus,
        connectionCount: s.connectionCount,
        activeConversationId: s.activeConversationId,
        lastSeenAt: s.status === 'OFFLINE' ? (known.get(s.userId) ?? null) : now,
        version: s.version ?? 0,
      });
    });
  }

  /** Runs `task` every `ms`, never two at once, logging failures. */
  private every(ms: number, task: () => Promise<void>): NodeJS.Timeout {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void this.track(task()).finally(() => (running = false));
    }, ms);
    timer.unref();
    return timer;
  }

  /** Keeps `work` until it settles (for {@link stop}); logs and swallows its failure. */
  private track(work: Promise<unknown>): Promise<void> {
    const done = work.then(
      () => undefined,
      (err: unknown) => this.log.warn({ err }, 'presence update failed'),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }
}
