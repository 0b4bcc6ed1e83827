import type Redis from 'ioredis';

/**
 * Apollo Server's KeyValueCache (`get`/`set`/`delete`, TTL in seconds) over ioredis, so that a
 * persisted query (APQ) registered on one instance is known on every instance. Keys are
 * `<prefix><key>`; a set without a TTL never expires.
 */
export class RedisKeyValueCache {
  /** @param prefix - prepended to every key, e.g. `parley:apq:`. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  /** @param options.ttl - lifetime in seconds; none or `null`: no expiry. */
  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    const ttl = options?.ttl;
    if (ttl && ttl > 0) await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(ttl));
    else await this.redis.set(this.prefix + key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) === 1;
  }
}
