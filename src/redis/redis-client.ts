import Redis from 'ioredis';

/**
 * Opens an ioredis connection. Commands fail fast while Redis is unreachable (no offline queue
 * that would hold requests for minutes); the client keeps reconnecting in the background, with
 * a back-off capped at 2 s. With `autoPipelining`, commands issued in one event-loop turn go out
 * in one socket write (ioredis's auto-pipelining): the publishes of concurrent sends share writes.
 *
 * @param url - `redis://` or `rediss://` URL.
 * @param name - connection name shown by `CLIENT LIST`, e.g. `parley:pub`.
 * @param options.autoPipelining - batch same-turn commands (not for a subscriber connection).
 */
export function createRedis(url: string, name: string, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
}

/** Commands ioredis has sent or queued on `redis` and not yet had answered (its `commandQueue`). */
export function commandQueueLength(redis: Redis): number {
  return (redis as unknown as { commandQueue?: { length: number } }).commandQueue?.length ?? 0;
}
