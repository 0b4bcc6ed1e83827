import type { Unsubscribe } from '../pubsub/event-bus';
import type { Stop } from './push-iterator';

/**
 * Counts live subscriptions of one kind (a prom-client gauge child in production). A stream
 * calls `inc` once its topics are subscribed, so an event published after that is delivered, and
 * `dec` when it ends. Tests wait on it: graphql-ws has no "subscribed" acknowledgement.
 */
export interface LiveCounter {
  inc(): void;
  dec(): void;
}

/**
 * The end of a {@link pushIterator} executor built on event-bus subscriptions: once every
 * subscription is made the stream counts as live; when the consumer stops, every subscription,
 * including those added meanwhile to `subscriptions`, is undone. A failed subscription stops the
 * stream with its error.
 */
export async function holdSubscriptions(subscriptions: Array<Promise<Unsubscribe>>, live: LiveCounter, stop: Stop): Promise<void> {
  const ready = await Promise.all(subscriptions).then(
    () => true,
    (err: unknown) => {
      stop(err);
      return false;
    },
  );
  if (ready) live.inc();
  await stop;
  if (ready) live.dec();
  const unsubscribes = await Promise.allSettled(subscriptions);
  await Promise.all(unsubscribes.map((u) => (u.status === 'fulfilled' ? u.value() : undefined)));
}
