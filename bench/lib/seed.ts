import { createHash, createHmac, randomUUID } from 'node:crypto';
import { StartConversationDocument } from '../../src/client/generated';
import { createRedisSessionCache } from '../../src/modules/auth/session.store';
import { hashPassword } from '../../src/modules/auth/password';
import { verifyToken } from '../../src/modules/auth/tokens';
import { gqlHttp, mapLimit } from './graphql';
import type { BenchStack } from './stack';

/** A user made for a benchmark, with a live token. */
export interface BenchUser {
  id: string;
  username: string;
  token: string;
}

/** Lifetime of seeded tokens and sessions: longer than any scenario. */
const TOKEN_TTL_SECONDS = 3600;

let passwordHash: Promise<string> | null = null;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const JWT_HEADER = base64url({ alg: 'HS256', typ: 'JWT' });

/**
 * An HS256 JWT with Parley's claims (`sub` user, `sid` session, `iat`, `exp`), signed with
 * node:crypto: jsonwebtoken's `sign` would take seconds for the connections scenario's 10,000
 * users. {@link seedUsers} checks the first token with Parley's own `verifyToken`, so a change of
 * the token format fails loudly instead of silently.
 */
function signJwt(userId: string, sessionId: string, secret: string, ttlSeconds: number): string {
  const iat = Math.floor(Date.now() / 1000);
  const body = `${JWT_HEADER}.${base64url({ sub: userId, sid: sessionId, iat, exp: iat + ttlSeconds })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/**
 * Creates `count` users directly in the bench database (after the migrations ran), each with a
 * session in the `sessions` table and its copy in Redis (Parley's own session cache) and a token with Parley's claims, so they
 * are what `register` would give. Registering through the API would spend most of a
 * scenario's budget in argon2 (thousands of users); registration is not what is measured.
 * Every user's password is `password123`.
 *
 * @param prefix - username prefix, unique within the stack.
 */
export async function seedUsers(stack: BenchStack, prefix: string, count: number): Promise<BenchUser[]> {
  passwordHash ??= hashPassword('password123');
  const { rows } = await stack.pool().query<{ id: string; username: string }>(
    `INSERT INTO users (username, display_name, password_hash)
         SELECT $1 || g, 'Bench ' || $1 || g, $2 FROM generate_series(1, $3::int) g
         RETURNING id, username`,
    [prefix, await passwordHash, count],
  );
  const sessions = createRedisSessionCache(stack.redis(), stack.redisPrefix);
  const users: BenchUser[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000).map((row) => ({ ...row, sessionId: randomUUID() }));
    // The sessions table is the truth (sockets are re-validated against it); Redis holds a copy.
    await stack.pool().query(
      `INSERT INTO sessions (id, user_id, expires_at)
         SELECT unnest($1::uuid[]), unnest($2::uuid[]), now() + make_interval(secs => $3)`,
      [chunk.map((u) => u.sessionId), chunk.map((u) => u.id), TOKEN_TTL_SECONDS],
    );
    users.push(
      ...(await Promise.all(
        chunk.map(async ({ id, username, sessionId }) => {
          const token = signJwt(id, sessionId, stack.jwtSecret, TOKEN_TTL_SECONDS);
          await sessions.remember(sessionId, id, TOKEN_TTL_SECONDS * 1000);
          return { id, username, token };
        }),
      )),
    );
  }
  if (users.length) {
    const claims = verifyToken(users[0].token, stack.jwtSecret);
    if (claims.userId !== users[0].id) throw new Error('seeded tokens do not carry the user id as Parley reads it');
  }
  return users;
}

/**
 * Starts conversations through the API (`startConversation` over HTTP), as clients do.
 * @param starts - who starts each and with whom.
 * @returns the conversation ids, in order.
 */
export async function startConversations(
  url: string,
  starts: ReadonlyArray<{ starter: BenchUser; others: readonly BenchUser[] }>,
  concurrency = 8,
): Promise<string[]> {
  return mapLimit(starts, concurrency, async ({ starter, others }) => {
    const data = await gqlHttp(
      url,
      StartConversationDocument,
      { participantIds: others.map((u) => u.id) },
      starter.token,
    );
    return data.startConversation.id;
  });
}

/**
 * Creates direct conversations of user pairs in SQL, for the thousands the connections scenario
 * needs. The participant key is computed as ConversationsService.participantSet does (SHA-256 of
 * the sorted ids joined by commas), so the API finds these conversations by their participants.
 * @returns the conversation ids, in the order of `pairs`.
 */
export async function seedPairConversations(
  stack: BenchStack,
  pairs: ReadonlyArray<readonly [BenchUser, BenchUser]>,
): Promise<string[]> {
  const keys = pairs.map(([a, b]) => createHash('sha256').update([a.id, b.id].sort().join(',')).digest('hex'));
  const pool = stack.pool();
  const ids: string[] = [];
  for (let i = 0; i < pairs.length; i += 2000) {
    const chunkKeys = keys.slice(i, i + 2000);
    const chunkPairs = pairs.slice(i, i + 2000);
    const { rows } = await pool.query<{ id: string; participant_key: string }>(
      `INSERT INTO conversations (participant_key, is_group) SELECT unnest($1::text[]), false RETURNING id, participant_key`,
      [chunkKeys],
    );
    const byKey = new Map(rows.map((r) => [r.participant_key, r.id]));
    const chunkIds = chunkKeys.map((k) => byKey.get(k)!);
    await pool.query(
      `INSERT INTO conversation_participants (conversation_id, user_id)
       SELECT unnest($1::uuid[] || $1::uuid[]), unnest($2::uuid[] || $3::uuid[])`,
      [chunkIds, chunkPairs.map(([a]) => a.id), chunkPairs.map(([, b]) => b.id)],
    );
    ids.push(...chunkIds);
  }
  return ids;
}

/** Direct conversations of fresh user pairs: who sends in each, and who receives. */
export interface Pairs {
  /** the first user of each pair, with the conversation it sends to */
  senders: Array<{ token: string; senderId: string; conversationId: string }>;
  /** the second user of each pair, with the conversation it subscribes to */
  receivers: Array<{ token: string; conversationId: string }>;
}

/** Seeds `count` user pairs and starts their direct conversations through the API. */
export async function seedPairs(stack: BenchStack, url: string, prefix: string, count: number): Promise<Pairs> {
  const users = await seedUsers(stack, prefix, count * 2);
  const ids = await startConversations(
    url,
    Array.from({ length: count }, (_, i) => ({ starter: users[2 * i], others: [users[2 * i + 1]] })),
  );
  return {
    senders: ids.map((conversationId, i) => ({ token: users[2 * i].token, senderId: users[2 * i].id, conversationId })),
    receivers: ids.map((conversationId, i) => ({ token: users[2 * i + 1].token, conversationId })),
  };
}
