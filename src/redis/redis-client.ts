import Redis from 'ioredis';
import type { Logger } from 'pino';

/**
 * Opens an ioredis connection that never makes a caller wait long for an unreachable Redis:
 * - no offline queue: a command issued while the connection is down fails at once ("Stream isn't
 *   writeable"), rather than waiting in a queue that grows for as long as the outage lasts;
 * - `commandTimeout`: a command sent to a Redis that does not answer fails after
 *   `commandTimeoutMs` (ioredis's "Command timed out");
 * - the client keeps reconnecting in the background, with a back-off capped at 2 s, and a
 *   subscriber connection subscribes again to its channels (ioredis's `autoResubscribe`).
 * With `autoPipelining`, commands issued in one event-loop turn go out in one socket write
 * (ioredis's auto-pipelining): the publishes of concurrent sends share writes.
 *
 * @param url - `redis://` or `rediss://` URL.
 * @param name - connection name shown by `CLIENT LIST`, e.g. `parley:pub`.
 * @param options.autoPipelining - batch same-turn commands (not for a subscriber connection).
 * @param log - told once when the connection fails and once when it is back (not at every retry).
 * @param options.commandTimeoutMs - longest wait for one command's answer, ms (REDIS_COMMAND_TIMEOUT_MS).
 */
export function createRedis(
  url: string,
  name: string,
  log: Logger,
  options: { autoPipelining?: boolean; commandTimeoutMs?: number } = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableAutoPipelining: options.autoPipelining ?? false,
    commandTimeout: options.commandTimeoutMs ?? 500,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  watchConnection(redis, name, log);
  return redis;
}

/**
 * Logs a connection's failure once (warn) and its recovery once (info), rather than every failed
 * reconnect; without an error listener ioredis prints each one to stderr.
 * @param name - the connection's name in the log line, e.g. `parley:pub`.
 */
export function watchConnection(redis: Redis, name: string, log: Logger): void {
  let failing = false;
  redis.on('error', (err) => {
    if (failing) return;
    failing = true;
    log.warn({ err, connection: name }, 'Redis connection failed; reconnecting');
  });
  redis.on('ready', () => {
    if (!failing) return;
    failing = false;
    log.info({ connection: name }, 'Redis connection restored');
  });
}

/** Commands ioredis has sent or queued on `redis` and not yet had answered (its `commandQueue`). */
export function commandQueueLength(redis: Redis): number {
  return (redis as unknown as { commandQueue?: { length: number } }).commandQueue?.length ?? 0;
}
