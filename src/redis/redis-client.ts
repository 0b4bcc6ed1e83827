import Redis from 'ioredis';

/**
 * Opens an ioredis connection. Commands fail fast while Redis is unreachable (no offline queue
 * that would hold requests for minutes); the client keeps reconnecting in the background, with
 * a back-off capped at 2 s.
 *
 * @param url - `redis://` or `rediss://` URL.
 * @param name - connection name shown by `CLIENT LIST`, e.g. `parley:pub`.
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
}
