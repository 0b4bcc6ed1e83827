import { LiveStream, type LiveStreamDeps } from '../../shared/live-stream';
import { userConversationsTopic, type ConversationJoinedPayload } from '../conversations/conversations.topics';
import type { PresenceService } from './presence.service';
import { presenceFromPayload, userPresenceTopic, type PresenceChangedPayload } from './presence.topics';
import type { Presence } from './presence.types';

/**
 * Opens `presenceChanged` streams: one topic per followed user, so an event reaches only the
 * subscriptions that follow that user. Named users, or by default everyone who shares a
 * conversation with the viewer and the participants of conversations created later.
 */
export class PresenceStreams {
  /** What every stream needs, one object for all of them. */
  private readonly deps: StreamDeps;

  constructor(live: LiveStreamDeps, presence: PresenceService) {
    this.deps = { ...live, presence };
  }

  /**
   * Checks the arguments and returns the stream (which subscribes when first read).
   * @param userIds - the users to follow; `null`/absent: every contact, and later ones.
   * @throws DomainError BAD_USER_INPUT for malformed ids or more than 100; FORBIDDEN when
   *   `userIds` names a user the viewer shares no conversation with.
   */
  async open(viewerId: string, userIds: readonly string[] | null | undefined): Promise<AsyncIterable<Presence>> {
    const named = userIds == null ? null : await this.deps.presence.requireContacts(viewerId, userIds);
    return new PresenceStream(this.deps, viewerId, named);
  }
}

interface StreamDeps extends LiveStreamDeps {
  presence: PresenceService;
}

/**
 * One subscriber's stream (see {@link PresenceStreams}). It keeps the last version delivered per
 * followed user: a change published by another instance may arrive after a newer one, and is then
 * dropped.
 */
class PresenceStream extends LiveStream<Presence> {
  /** Last version delivered, by followed user (0 until the first change): also the followed set. */
  private readonly versions = new Map<string, number>();

  constructor(
    protected override readonly deps: StreamDeps,
    viewerId: string,
    /** The named users, or `null` to follow every contact. */
    private readonly named: readonly string[] | null,
  ) {
    super(deps, 'presenceChanged', viewerId);
  }

  /**
   * Named users: their topics. Otherwise hears about new conversations first, then lists the
   * current contacts: a conversation created in between is covered by one or the other (a user
   * is followed once).
   */
  protected async open(): Promise<void> {
    if (this.named) {
      await Promise.all(this.named.map((id) => this.followUser(id)));
      return;
    }
    await this.follow(userConversationsTopic(this.viewerId), { local: true });
    const contacts = await this.deps.presence.contactsOf(this.viewerId);
    await Promise.all(contacts.map((id) => this.followUser(id)));
  }

  /** A payload of a followed topic: only a presence change has a `status`. */
  protected onEvent(p: PresenceChangedPayload | ConversationJoinedPayload): void {
    if ('status' in p) this.onChange(p);
    else this.onJoined(p.conversationId);
  }

  protected *followed(): Iterable<string> {
    if (!this.named) yield userConversationsTopic(this.viewerId);
    for (const userId of this.versions.keys()) yield userPresenceTopic(userId);
  }

  private onChange(p: PresenceChangedPayload): void {
    const last = this.versions.get(p.userId);
    if (last === undefined || p.version <= last) return;
    this.versions.set(p.userId, p.version);
    void this.push(presenceFromPayload(p));
  }

  /** The viewer joined a conversation: follow its participants. A failure ends the stream. */
  private onJoined(conversationId: string): void {
    this.deps.presence
      .contactsOf(this.viewerId, conversationId)
      .then((ids) => Promise.all(ids.map((id) => this.followUser(id))))
      .catch((err: unknown) => this.end(err ?? new Error('subscription failed')));
  }

  /** Follows a user's topic, once; resolves once the bus hears it. */
  private followUser(userId: string): Promise<unknown> {
    if (this.versions.has(userId) || this.stopped) return Promise.resolve();
    this.versions.set(userId, 0);
    return this.follow(userPresenceTopic(userId));
  }
}
