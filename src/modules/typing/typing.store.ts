import type Redis from 'ioredis';
import { defineLuaScript, LUA_NOW } from '../../redis/lua-script';

/** A typing state that is not refreshed ends after this many ms. */
export const TYPING_TTL_MS = 6_000;
/** At most one typing event per user per conversation in this many ms. */
export const TYPING_INTERVAL_MS = 1_000;

/** What to do after a typing update. */
export interface TypingDecision {
  /** Publish this `isTyping` now; `null`: nothing to publish now. */
  publish: boolean | null;
  /** Look at the state again in this many ms (a held-back change, or the expiry); `null`: no need. */
  recheckInMs: number | null;
}

/** A typing event found by {@link TypingStore.sweep}. */
export interface TypingChange {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}

/**
 * Ephemeral typing state per user and conversation (never PostgreSQL): when it expires, what was
 * last published and when. The rules, the same in both stores:
 * - `true` (re)starts typing for {@link TYPING_TTL_MS}; `false` ends it; `null` re-evaluates.
 * - An event is published when the throttle allows one ({@link TYPING_INTERVAL_MS} since the last)
 *   and it says something: the state differs from the last published, or a `true` refresh.
 * - A change the throttle held back is published when the interval ends (`recheckInMs`), so the
 *   last state always reaches subscribers; an expired state publishes `false` the same way.
 */
export interface TypingStore {
  /** Applies `isTyping` (`null`: re-evaluate only) to one user's state in one conversation. */
  update(conversationId: string, userId: string, isTyping: boolean | null): Promise<TypingDecision>;
  /**
   * Re-evaluates states whose recheck is overdue by more than `graceMs` (their instance died
   * before its timer ran). @returns the events to publish.
   */
  sweep(graceMs: number, limit: number): Promise<TypingChange[]>;
}

const PRELUDE = `${LUA_NOW}
local P, TTL, INTERVAL = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local DUE = P .. 'due'
local function update(conv, uid, input)
  local key, member = P .. conv .. ':' .. uid, conv .. ' ' .. uid
  local h = redis.call('HMGET', key, 'exp', 'pub', 'at')
  local exp, pub, at = tonumber(h[1]) or 0, h[2] == '1', tonumber(h[3]) or 0
  if input == '1' then exp = NOW + TTL elseif input == '0' then exp = 0 end
  local typing, publish, due = exp > NOW, '', -1
  if NOW >= at + INTERVAL and (typing ~= pub or input == '1') then
    publish = typing and '1' or '0'
    pub, at = typing, NOW
  end
  if typing ~= pub then due = at + INTERVAL elseif typing then due = exp end
  if not h[1] and publish == '' and due < 0 then return { '', -1 } end
  redis.call('HSET', key, 'exp', exp, 'pub', pub and '1' or '0', 'at', at)
  redis.call('PEXPIRE', key, TTL + INTERVAL + 60000)
  if due >= 0 then redis.call('ZADD', DUE, due, member) else redis.call('ZREM', DUE, member) end
  return { publish, due >= 0 and (due - NOW) or -1 }
end
`;

/**
 * The {@link TypingStore} in Redis (`<prefix>typing:<conversation>:<user>` hashes with a PX
 * expiry, and a `typing:due` sorted set of pending rechecks for the sweep), one Lua script per call.
 */
export function createRedisTypingStore(redis: Redis, prefix: string): TypingStore {
  const common = [`${prefix}typing:`, TYPING_TTL_MS, TYPING_INTERVAL_MS];
  const update = defineLuaScript(redis, 'parleyTyping_update', `${PRELUDE}return update(ARGV[4], ARGV[5], ARGV[6])`);
  const sweep = defineLuaScript(
    redis,
    'parleyTyping_sweep',
    `${PRELUDE}
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', DUE, '-inf', NOW - tonumber(ARGV[4]), 'LIMIT', 0, tonumber(ARGV[5]))) do
  local conv, uid = string.match(m, '^(%S+) (%S+)$')
  local r = update(conv, uid, '')
  if r[1] ~= '' then out[#out + 1] = { conv, uid, r[1] } end
end
return out`,
  );
  return {
    async update(conversationId, userId, isTyping) {
      const input = isTyping === null ? '' : isTyping ? '1' : '0';
      const [publish, recheckInMs] = (await update([...common, conversationId, userId, input])) as [string, number];
      return { publish: publish === '' ? null : publish === '1', recheckInMs: recheckInMs < 0 ? null : recheckInMs };
    },
    async sweep(graceMs, limit) {
      const rows = (await sweep([...common, graceMs, limit])) as Array<[string, string, string]>;
      return rows.map(([conversationId, userId, typing]) => ({ conversationId, userId, isTyping: typing === '1' }));
    },
  };
}

/**
 * The {@link TypingStore} of the embedded default, in this process. Its timers are the only
 * ones, and they live as long as the state, so `sweep` has nothing to find.
 */
export function createMemoryTypingStore(): TypingStore {
  const states = new Map<string, { exp: number; pub: boolean; at: number; timer: NodeJS.Timeout }>();
  return {
    async update(conversationId, userId, isTyping) {
      const key = `${conversationId}:${userId}`;
      const now = Date.now();
      const s = states.get(key);
      let { exp, pub, at } = s ?? { exp: 0, pub: false, at: 0 };
      if (isTyping !== null) exp = isTyping ? now + TYPING_TTL_MS : 0;
      const typing = exp > now;
      let publish: boolean | null = null;
      if (now >= at + TYPING_INTERVAL_MS && (typing !== pub || isTyping === true)) {
        publish = pub = typing;
        at = now;
      }
      const due = typing !== pub ? at + TYPING_INTERVAL_MS : typing ? exp : null;
      if (s) clearTimeout(s.timer);
      // Forget the state once the throttle no longer needs it.
      const forget = setTimeout(() => states.delete(key), Math.max(exp, at + TYPING_INTERVAL_MS) - now + 1_000);
      forget.unref();
      states.set(key, { exp, pub, at, timer: forget });
      return { publish, recheckInMs: due === null ? null : due - now };
    },
    async sweep() {
      return [];
    },
  };
}
