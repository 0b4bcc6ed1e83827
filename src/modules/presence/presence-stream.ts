import type { EventBus, Unsubscribe } from '../../pubsub/event-bus';
import type { ConversationJoinedPayload, PresenceChangedPayload } from '../../pubsub/payloads';
import { topics } from '../../pubsub/topics';
import { holdSubscriptions, type LiveCounter } from '../../shared/stream-lifetime';
import { pushIterator } from '../../shared/push-iterator';
import { presenceFromPayload, type PresenceService } from './presence.service';
import type { Presence } from './presence.types';

/**
 * The live `presenceChanged` stream of one subscriber: one topic per followed user, so an event
 * reaches only the subscriptions that follow that user. By default it follows everyone who shares
 * a conversation with the viewer, and the participants of conversations created later.
 */
export class PresenceStreams {
  constructor(
    private readonly bus: EventBus,
    private readonly presence: PresenceService,
    private readonly live: LiveCounter,
  ) {}

  /**
   * Checks the arguments and returns the stream (which subscribes when first read).
   * @throws DomainError BAD_USER_INPUT for malformed ids or more than 100; FORBIDDEN when
   *   `userIds` names a user the viewer shares no conversation with.
   */
  async open(viewerId: string, userIds: readonly string[] | null | undefined): Promise<AsyncIterable<Presence>> {
    const named = userIds == null ? null : await this.presence.requireContacts(viewerId, userIds);
    const { bus, presence, live } = this;
    return pushIterator<Presence>(async (push, stop) => {
      // Last version delivered per user: a change published by another instance may arrive after
      // a newer one, and is then dropped.
      const versions = new Map<string, number>();
      const subscriptions: Array<Promise<Unsubscribe>> = [];
      const follow = (userId: string) => {
        if (versions.has(userId)) return;
        versions.set(userId, 0);
        subscriptions.push(
          bus.subscribe<PresenceChangedPayload>(topics.userPresence(userId), (p) => {
            if (p.version <= (versions.get(userId) ?? 0)) return;
            versions.set(userId, p.version);
            void push(presenceFromPayload(p));
          }),
        );
      };
      const fail = (err: unknown) => stop(err);

      if (named) {
        named.forEach(follow);
      } else {
        // Hear about new conversations first, then list the current contacts: a conversation
        // created in between is covered by one or the other (`follow` ignores repeats).
        const joined = bus.subscribe<ConversationJoinedPayload>(topics.userConversations(viewerId), ({ conversationId }) => {
          presence.contactsOf(viewerId, conversationId).then((ids) => ids.forEach(follow), fail);
        });
        subscriptions.push(joined);
        await joined.then(() => presence.contactsOf(viewerId)).then((ids) => ids.forEach(follow), fail);
      }
      await holdSubscriptions(subscriptions, live, stop);
    });
  }
}
