import Redis from 'ioredis';

/**
 * Opens an ioredis connection. Commands fail fast while Redis is unreachable (no offline queue
 * that would hold requests for minutes); the client keeps reconnecting in the background, with
 * a back-off capped at 2 s.
 *
 * With `autoPipelining`, commands issued in the same event-loop turn go out in one socket write
 * (ioredis's auto-pipelining): the publishes of concurrent sends share writes. On loopback and in
 * VMs every socket write is a system call that also runs the receiver's TCP path; they were a
 * third of the CPU of an HTTP send. Each batch is an ioredis `Pipeline`, whose per-instance
 * `length` accessor keeps it past the next young-generation collection (~3 KB promoted per send);
 * without auto-pipelining on the publisher 0.5 KB is promoted, but sends/s and server CPU per send
 * measured the same (three back-to-back `bench:send` runs, 2026-11-22), so it stays on.
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
