import type Redis from 'ioredis';
import type DataLoader from 'dataloader';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { turnBatchedLoader } from '../../shared/loader';

declare module 'rate-limiter-flexible' {
  interface RateLimiterRedis {
    /**
     * The store's write, the method rate-limiter-flexible's custom stores implement
     * (RateLimiterStoreAbstract): adds `points` to `rlKey` and resolves with what
     * `_getRateLimiterRes` reads, `[consumed, ttlMs]` for RateLimiterRedis.
     */
    _upsert(rlKey: string, points: number, msDuration: number, forceExpire?: boolean): Promise<unknown>;
  }
}

/**
 * RateLimiterRedis's own script (`SET NX EX`, `INCRBY`, `PTTL`), run once per key of a batch:
 * KEYS are the limiter keys, ARGV holds `points, seconds` per key; answers `consumed, ttlMs` per key.
 * Keys are processed in order, so a key that appears twice counts twice, as two calls would.
 */
const BATCH_SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local key, points, seconds = KEYS[i], ARGV[2 * i - 1], ARGV[2 * i]
  redis.call('set', key, 0, 'EX', seconds, 'NX')
  local consumed = redis.call('incrby', key, points)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, seconds)
    ttl = 1000 * seconds
  end
  out[2 * i - 1] = consumed
  out[2 * i] = ttl
end
return out`;

/** The script's name on the client (ioredis `defineCommand`: EVALSHA, EVAL once when unknown). */
const COMMAND = 'parleyRateLimitBatch';

/** Keys per script call: bounds the time Redis spends in one script. */
const MAX_KEYS_PER_CALL = 500;

/** Points to add to one limiter key. */
interface Upsert {
  key: string;
  points: number;
  seconds: number;
}

type BatchCommand = (numKeys: number, ...args: (string | number)[]) => Promise<number[]>;

/**
 * The loaders of a Redis client, one per batching window: every limiter on it with the same
 * window (sends, typing, ...; or the connection caps of users and of addresses) shares one, so
 * that their points go out in one call whatever limits they count against. A socket admitted
 * counts against two caps at once.
 */
const loaders = new WeakMap<Redis, Map<number, DataLoader<Upsert, [number, number]>>>();

function loaderOf(redis: Redis, lingerMs: number): DataLoader<Upsert, [number, number]> {
  let byLinger = loaders.get(redis);
  if (!byLinger) loaders.set(redis, (byLinger = new Map<number, DataLoader<Upsert, [number, number]>>()));
  let loader = byLinger.get(lingerMs);
  if (!loader) {
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: BATCH_SCRIPT });
    loader = turnBatchedLoader((items) => upsertAll(redis, items), MAX_KEYS_PER_CALL, lingerMs);
    byLinger.set(lingerMs, loader);
  }
  return loader;
}

/** Runs one batch as one script call. @returns `[consumed, ttlMs]` per item, in order. */
async function upsertAll(redis: Redis, items: readonly Upsert[]): Promise<Array<[number, number]>> {
  const args: (string | number)[] = items.map((item) => item.key);
  for (const item of items) args.push(item.points, item.seconds);
  const out = await (redis as unknown as Record<typeof COMMAND, BatchCommand>)[COMMAND](items.length, ...args);
  return items.map((_, i) => [out[2 * i], out[2 * i + 1]]);
}

/**
 * A RateLimiterRedis whose points taken in one event-loop turn, over all keys and every limiter
 * on the same Redis client, go to Redis as one script call instead of one per consume (the turn
 * batching of {@link turnBatchedLoader}). Same counts, same windows and the same cross-instance
 * guarantee: every point is still counted in Redis before its operation runs. What changes is the
 * cost: a send paid ~26 µs of CPU (Node and Redis) for its own EVALSHA; see bench/README.md,
 * "Findings behind the code". Writes that set a key outright (`block`, `set`) take the library's
 * own path.
 *
 * All keys of a call must live on one Redis node: fine for one Redis or a replicated one, not for
 * Redis Cluster.
 */
export class TurnBatchedRateLimiterRedis extends RateLimiterRedis {
  private readonly redis: Redis;
  private readonly loader: DataLoader<Upsert, [number, number]>;

  /**
   * @param opts.lingerMs - how long a batch of points stays open after its first, ms (see
   *   turnBatchedLoader); 0, the default, closes it at the end of the turn.
   */
  constructor(opts: ConstructorParameters<typeof RateLimiterRedis>[0] & { storeClient: Redis; lingerMs?: number }) {
    const { lingerMs = 0, ...options } = opts;
    super(options);
    this.redis = opts.storeClient as Redis;
    this.loader = loaderOf(this.redis, lingerMs);
  }

  override _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<unknown> {
    const seconds = Math.floor(msDuration / 1000);
    if (forceExpire || seconds <= 0 || !Number.isInteger(points)) {
      return super._upsert(rlKey, points, msDuration, forceExpire);
    }
    // As rejectIfRedisNotReady: the insurance limiter answers at once rather than commands queueing.
    if (this.redis.status !== 'ready') return Promise.reject(new Error('Redis connection is not ready'));
    return this.loader.load({ key: rlKey, points, seconds });
  }
}
