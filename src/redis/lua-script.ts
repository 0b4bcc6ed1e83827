import type Redis from 'ioredis';

/** Runs a Lua script defined by {@link defineLuaScript} with its arguments (ARGV). */
export type LuaScript = (args: ReadonlyArray<string | number>) => Promise<unknown>;

/**
 * Defines a Lua script on a command connection: ioredis sends it by SHA (EVALSHA) and loads it
 * again after a NOSCRIPT reply (a Redis restart). The script runs atomically, in one round trip.
 * Scripts get no KEYS: Parley's scripts derive keys from their arguments, which is fine on one
 * Redis server (Parley does not support Redis Cluster).
 *
 * @param name - unique per connection, e.g. `parleyPresenceConnect`.
 */
export function defineLuaScript(redis: Redis, name: string, lua: string): LuaScript {
  redis.defineCommand(name, { lua, numberOfKeys: 0 });
  const run = (redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>)[name];
  return (args) => run.apply(redis, [...args]);
}

/** Lua that sets `NOW` to the Redis server's clock in ms, so that every instance shares one clock. */
export const LUA_NOW = `local t = redis.call('TIME')
local NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
