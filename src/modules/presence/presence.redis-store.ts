import type Redis from 'ioredis';
import { defineLuaScript, LUA_NOW } from '../../redis/lua-script';
import type { LiveState, PresenceStatusValue, PresenceStore, PresenceTransition } from './presence.store';

/** How long an offline user's hash (last announced state, version) is kept, ms. */
const KEEP_OFFLINE_MS = 24 * 3600 * 1000;
/** Connections refreshed, added or removed per script call. */
const SCRIPT_CHUNK = 500;

/*
 * Keys, under `<REDIS_PREFIX>presence:`:
 *   user:<userId>        hash: `c:<connectionId>` -> JSON {i: instance, s: session, h: last refresh ms,
 *                        e: expiry ms (h + the owner's TTL), a: active conversation id or '',
 *                        t: order of that setActiveConversation},
 *                        `away` (AWAY flag), `pub` ("STATUS|active" last announced), `ver`, `act` (counter),
 *                        `seen` (ms: when the last connection ended, while none is live)
 *   expiry               sorted set of "<userId> <connectionId>" by expiry time (h + TTL), for the sweep
 *   instance:<id>        set of "<userId> <connectionId>" owned by an instance, for clearing at start
 *   unannounced          sorted set of users a sweep, a heartbeat or an instance's clearing changed, by when,
 *                        until their change is announced (a later sweep announces those left past
 *                        a grace period)
 * Every script reads the Redis clock (TIME), so instances with skewed clocks agree on expiry, and
 * each entry carries its own expiry, so instances configured with different TTLs agree too.
 */
const PRELUDE = `${LUA_NOW}
local P, TTL, KEEP = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local EXPIRY = P .. 'expiry'
local UNANNOUNCED = P .. 'unannounced'
local function userKey(uid) return P .. 'user:' .. uid end
local function purge(uid, conn, inst)
  redis.call('HDEL', userKey(uid), 'c:' .. conn)
  redis.call('ZREM', EXPIRY, uid .. ' ' .. conn)
  redis.call('SREM', P .. 'instance:' .. inst, uid .. ' ' .. conn)
end
local function scan(uid)
  local h = redis.call('HGETALL', userKey(uid))
  local s = { count = 0, active = '', activeAt = -1, away = false, pub = 'OFFLINE|', ver = 0, seen = 0, expired = {} }
  for i = 1, #h, 2 do
    local f, v = h[i], h[i + 1]
    if string.sub(f, 1, 2) == 'c:' then
      local c = cjson.decode(v)
      if c.e > NOW then
        s.count = s.count + 1
        if c.t > s.activeAt then s.activeAt = c.t; s.active = c.a end
      else
        s.expired[#s.expired + 1] = { string.sub(f, 3), c }
      end
    elseif f == 'away' then s.away = true
    elseif f == 'pub' then s.pub = v
    elseif f == 'ver' then s.ver = tonumber(v)
    elseif f == 'seen' then s.seen = tonumber(v)
    end
  end
  if s.count == 0 then s.active = '' end
  s.status = s.count == 0 and 'OFFLINE' or (s.away and 'AWAY' or 'ONLINE')
  return s
end
local function settle(uid, seen)
  local key = userKey(uid)
  local s = scan(uid)
  for _, e in ipairs(s.expired) do
    purge(uid, e[1], e[2].i)
    if e[2].h > seen then seen = e[2].h end
  end
  local state = s.status .. '|' .. s.active
  local changed = 0
  if state ~= s.pub then
    changed = 1
    s.ver = math.max(s.ver + 1, NOW)
    redis.call('HSET', key, 'pub', state, 'ver', s.ver)
  end
  if s.count == 0 then
    -- Kept for a later sweep that announces this change again (its entries are gone by then).
    if seen > 0 then redis.call('HSET', key, 'seen', seen) else seen = s.seen end
    redis.call('HDEL', key, 'away')
    redis.call('PEXPIRE', key, KEEP)
  else
    redis.call('PERSIST', key)
  end
  return { uid, changed, s.status, s.count, s.active, s.ver, seen }
end
-- Marks the users of \`out\` until their change is announced (the store's \`announced\`).
local function markUnannounced(out)
  for _, r in ipairs(out) do redis.call('ZADD', UNANNOUNCED, NOW, r[1]) end
end
local function settleChanged(out, uid, seen)
  local r = settle(uid, seen)
  if r[2] == 1 then out[#out + 1] = r end
end
`;

const SCRIPTS = {
  connect: `
local inst, out = ARGV[4], {}
for j = 5, #ARGV, 3 do
  local uid, conn, sess = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  redis.call('HSET', userKey(uid), 'c:' .. conn, cjson.encode({ i = inst, s = sess, h = NOW, e = NOW + TTL, a = '', t = 0 }))
  redis.call('ZADD', EXPIRY, NOW + TTL, uid .. ' ' .. conn)
  redis.call('SADD', P .. 'instance:' .. inst, uid .. ' ' .. conn)
  out[#out + 1] = settle(uid, 0)
end
return out`,
  disconnect: `
local out = {}
for j = 5, #ARGV, 2 do
  purge(ARGV[j], ARGV[j + 1], ARGV[4])
  out[#out + 1] = settle(ARGV[j], NOW)
end
return out`,
  heartbeat: `
local inst, out = ARGV[4], {}
for j = 5, #ARGV, 3 do
  local uid, conn, sess = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  local key = userKey(uid)
  local raw = redis.call('HGET', key, 'c:' .. conn)
  local c = raw and cjson.decode(raw) or { i = inst, s = sess, a = '', t = 0 }
  c.h, c.e = NOW, NOW + TTL
  redis.call('HSET', key, 'c:' .. conn, cjson.encode(c))
  redis.call('ZADD', EXPIRY, NOW + TTL, uid .. ' ' .. conn)
  if not raw then
    redis.call('SADD', P .. 'instance:' .. inst, uid .. ' ' .. conn)
    settleChanged(out, uid, 0)
  end
end
markUnannounced(out)
return out`,
  setStatus: `
if ARGV[5] == 'AWAY' then redis.call('HSET', userKey(ARGV[4]), 'away', '1') else redis.call('HDEL', userKey(ARGV[4]), 'away') end
return settle(ARGV[4], 0)`,
  setActive: `
local uid, conn, sess, cid = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = userKey(uid)
local h = redis.call('HGETALL', key)
local mine, all = {}, {}
for i = 1, #h, 2 do
  if string.sub(h[i], 1, 2) == 'c:' then
    local c = cjson.decode(h[i + 1])
    if c.e > NOW then
      local entry = { h[i], c }
      all[#all + 1] = entry
      if (conn ~= '' and string.sub(h[i], 3) == conn) or (conn == '' and c.s == sess) then mine[#mine + 1] = entry end
    end
  end
end
local targets = mine
if conn == '' and #mine == 0 then targets = all end
if #targets > 0 then
  local order = redis.call('HINCRBY', key, 'act', 1)
  for _, e in ipairs(targets) do
    e[2].a = cid
    e[2].t = order
    redis.call('HSET', key, e[1], cjson.encode(e[2]))
  end
end
local r = settle(uid, 0)
r[8] = #targets
return r`,
  read: `
local out = {}
for j = 4, #ARGV do
  local s = scan(ARGV[j])
  out[#out + 1] = { s.status, s.count, s.active }
end
return out`,
  sweep: `
local limit = tonumber(ARGV[4])
local members = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', NOW, 'LIMIT', 0, limit)
local done, out = {}, {}
for _, m in ipairs(members) do
  redis.call('ZREM', EXPIRY, m)
  local uid = string.match(m, '^(%S+) ')
  if uid and not done[uid] then
    done[uid] = true
    settleChanged(out, uid, 0)
  end
end
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', UNANNOUNCED, '-inf', NOW - tonumber(ARGV[5]), 'LIMIT', 0, limit)) do
  if not done[uid] then
    done[uid] = true
    local r = settle(uid, 0)
    r[2] = 1
    out[#out + 1] = r
  end
end
markUnannounced(out)
return out`,
  clearInstance: `
local set = P .. 'instance:' .. ARGV[4]
local last, order, out = {}, {}, {}
for _, m in ipairs(redis.call('SMEMBERS', set)) do
  local uid, conn = string.match(m, '^(%S+) (%S+)$')
  if last[uid] == nil then last[uid] = 0; order[#order + 1] = uid end
  local raw = redis.call('HGET', userKey(uid), 'c:' .. conn)
  if raw then last[uid] = math.max(last[uid], cjson.decode(raw).h) end
  purge(uid, conn, ARGV[4])
end
redis.call('DEL', set)
for _, uid in ipairs(order) do settleChanged(out, uid, last[uid]) end
markUnannounced(out)
return out`,
} as const;

type Reply = [string, number, PresenceStatusValue, number, string, number, number, number?];

function toTransition(reply: unknown): PresenceTransition {
  const [userId, changed, status, connectionCount, active, version, lastSeenMs] = reply as Reply;
  return {
    userId,
    changed: changed === 1,
    status,
    connectionCount,
    activeConversationId: active || null,
    version,
    lastSeenMs,
  };
}

/**
 * The {@link PresenceStore} in Redis: every operation is one Lua script (atomic, one round
 * trip), so concurrent instances agree on which of them announces a change.
 *
 * @param prefix - REDIS_PREFIX.
 * @param ttlMs - lifetime of a connection entry without a heartbeat.
 */
export function createRedisPresenceStore(redis: Redis, prefix: string, ttlMs: number): PresenceStore {
  const run = Object.fromEntries(
    Object.entries(SCRIPTS).map(([name, body]) => {
      const script = defineLuaScript(redis, `parleyPresence_${name}`, PRELUDE + body);
      return [
        name,
        (...args: Array<string | number>) => script([`${prefix}presence:`, ttlMs, KEEP_OFFLINE_MS, ...args]),
      ];
    }),
  ) as Record<keyof typeof SCRIPTS, (...args: Array<string | number>) => Promise<unknown>>;
  const many = async (reply: Promise<unknown>) => ((await reply) as unknown[]).map(toTransition);
  /** One script call per SCRIPT_CHUNK connections, each given as its `fields`, in order. */
  const inChunks = async <C>(
    conns: readonly C[],
    fields: (c: C) => Array<string | number>,
    call: (args: Array<string | number>) => Promise<unknown>,
  ): Promise<PresenceTransition[]> => {
    const out: PresenceTransition[] = [];
    for (let i = 0; i < conns.length; i += SCRIPT_CHUNK) {
      out.push(...(await many(call(conns.slice(i, i + SCRIPT_CHUNK).flatMap(fields)))));
    }
    return out;
  };

  return {
    connect: (instanceId, conns) =>
      inChunks(
        conns,
        (c) => [c.userId, c.connectionId, c.sessionId],
        (args) => run.connect(instanceId, ...args),
      ),
    disconnect: (instanceId, conns) =>
      inChunks(
        conns,
        (c) => [c.userId, c.connectionId],
        (args) => run.disconnect(instanceId, ...args),
      ),
    heartbeat: (instanceId, conns) =>
      inChunks(
        conns,
        (c) => [c.userId, c.connectionId, c.sessionId],
        (args) => run.heartbeat(instanceId, ...args),
      ),
    async setStatus(userId, status) {
      return toTransition(await run.setStatus(userId, status));
    },
    async setActive(userId, target, conversationId) {
      const reply = (await run.setActive(
        userId,
        target.connectionId ?? '',
        target.sessionId ?? '',
        conversationId ?? '',
      )) as Reply;
      return { ...toTransition(reply), applied: reply[7] ?? 0 };
    },
    async read(userIds) {
      if (userIds.length === 0) return [];
      const rows = (await run.read(...userIds)) as Array<[PresenceStatusValue, number, string]>;
      return rows.map(([status, connectionCount, active]): LiveState => ({
        status,
        connectionCount,
        activeConversationId: active || null,
      }));
    },
    sweep: (limit, graceMs) => many(run.sweep(limit, graceMs)),
    async announced(userIds) {
      if (userIds.length) await redis.zrem(`${prefix}presence:unannounced`, ...userIds);
    },
    clearInstance: (instanceId) => many(run.clearInstance(instanceId)),
  };
}
