/**
 * Work shared by every local subscriber of one live event. graphql-ws executes the subscription's
 * selection set once per subscriber, so a field that reads the database (a message's sender)
 * would read it once per subscriber: a group of 1,000 would cost 1,000 identical queries per
 * message. Resolvers of viewer-independent fields ask {@link perEvent} instead, and the first
 * subscriber's read serves the others. The result is read at event time, so it is never staler
 * than the event itself (unlike a long-lived cache on the socket, see src/shared/loader.ts).
 */
const shared = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Marks `event` as one object handed to every local subscriber (see {@link perEvent}). */
export function shareAcrossSubscribers<T extends object>(event: T): T {
  if (!shared.has(event)) shared.set(event, new Map());
  return event;
}

/**
 * `load()` once per shared event and `key`; for any other object, simply `load()`.
 * @param key - names the field, e.g. `sender`.
 */
export function perEvent<T>(event: object, key: string, load: () => Promise<T>): Promise<T> {
  const cache = shared.get(event);
  if (!cache) return load();
  let result = cache.get(key) as Promise<T> | undefined;
  if (!result) cache.set(key, (result = load()));
  return result;
}
