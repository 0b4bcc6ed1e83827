import {
  LoginDocument,
  LogoutDocument,
  MeDocument,
  MessageAddedDocument,
  RegisterDocument,
} from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, http, ok, Subscription, wsClient } from '../support/clients';
import Redis from 'ioredis';
import { Client } from 'pg';
import { TEST_REDIS_URL } from '../support/env';
import { buildUser } from '../support/factories';
import { useInstances, type TestCluster } from '../support/server';
import { eventually } from '../support/wait';
import { signToken } from '../../src/modules/auth/tokens';

const setup = useInstances(1);
let cluster: TestCluster;
let server: ParleyServer;
beforeAll(() => ({ cluster, a: server } = setup));

describe('register', () => {
  it('returns a token that authenticates me', async () => {
    const { register } = await ok(server, RegisterDocument, {
      input: { username: 'Alice_auth', password: 'correct horse', displayName: 'Alice A.' },
    });
    expect(register.user).toMatchObject({ username: 'Alice_auth', displayName: 'Alice A.' });
    expect(new Date(register.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const { me } = await ok(server, MeDocument, {}, register.token);
    expect(me.id).toBe(register.user.id);
  });

  it('defaults displayName to the username', async () => {
    const { register } = await ok(server, RegisterDocument, {
      input: { username: 'bob_auth', password: 'password123' },
    });
    expect(register.user.displayName).toBe('bob_auth');
  });

  it('answers CONFLICT for a username taken in another case', async () => {
    await buildUser(server, { username: 'carol_auth' });
    const again = await http(server, RegisterDocument, { input: { username: 'CAROL_auth', password: 'password123' } });
    expect(codes(again)).toEqual(['CONFLICT']);
  });

  it.each([
    ['ab', 'password123', undefined, 'username'],
    ['has space', 'password123', undefined, 'username'],
    ['x'.repeat(33), 'password123', undefined, 'username'],
    ['okname_1', 'short', undefined, 'password'],
    ['okname_2', 'p'.repeat(129), undefined, 'password'],
    ['okname_3', 'password123', '   ', 'displayName'],
    ['okname_4', 'password123', 'd'.repeat(65), 'displayName'],
  ])('refuses %j / %j / %j with BAD_USER_INPUT on %s', async (username, password, displayName, field) => {
    const result = await http(server, RegisterDocument, { input: { username, password, displayName } });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0].extensions!.field).toBe(field);
    expect(result.data).toBeNull();
  });
});

describe('login', () => {
  it('logs in case-insensitively and gives one message for unknown user and wrong password', async () => {
    const dave = await buildUser(server, { username: 'dave_auth' });
    const { login } = await ok(server, LoginDocument, { input: { username: 'DAVE_auth', password: dave.password } });
    expect(login.user.username).toBe('dave_auth');

    const wrong = await http(server, LoginDocument, { input: { username: 'dave_auth', password: 'nope-nope' } });
    const unknown = await http(server, LoginDocument, { input: { username: 'nobody_here', password: 'password123' } });
    expect(codes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(codes(unknown)).toEqual(['UNAUTHENTICATED']);
    // Over HTTP, as for a bad token: 401, with no data.
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.data).toBeNull();
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });
});

describe('me', () => {
  it('is UNAUTHENTICATED without a token', async () => {
    const result = await http(server, MeDocument, {});
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
  });

  it('answers 401 for a forged, malformed or expired token', async () => {
    const user = await buildUser(server);
    const forged = user.token.slice(0, -4) + (user.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const expired = signToken({ userId: user.id, sessionId: 'x' }, 'a'.repeat(40), -10).token;
    for (const token of [forged, 'not-a-jwt', expired]) {
      const result = await http(server, MeDocument, {}, token);
      expect(result.status).toBe(401);
      expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    }
  });
});

describe('logout', () => {
  it('revokes the token over HTTP and closes its sockets with 4403, on every instance', async () => {
    const other = await cluster.start();
    const user = await buildUser(server);
    const socketOnA = wsClient(server, { authToken: user.token });
    const socketOnB = wsClient(other, { Authorization: `Bearer ${user.token}` });
    const subA = new Subscription(socketOnA, MessageAddedDocument, {});
    const subB = new Subscription(socketOnB, MessageAddedDocument, {});
    // Both sockets are acknowledged before logout.
    await Promise.all([socketOnA.acknowledged, socketOnB.acknowledged]);

    expect((await ok(server, LogoutDocument, {}, user.token)).logout).toBe(true);
    expect(await socketOnA.closed).toEqual({ code: 4403, reason: 'Session revoked' });
    expect(await socketOnB.closed).toEqual({ code: 4403, reason: 'Session revoked' });
    const after = await http(other, MeDocument, {}, user.token);
    expect(after.status).toBe(401);
    expect(codes(after)).toEqual(['UNAUTHENTICATED']);
    await subA.dispose();
    await subB.dispose();
    // A new login still works.
    const { login } = await ok(other, LoginDocument, { input: { username: user.username, password: user.password } });
    expect((await ok(server, MeDocument, {}, login.token)).me.id).toBe(user.id);
  });
});

describe('session cache', () => {
  it('trusts a live session for SESSION_CACHE_MS at most when the revocation event never arrives', async () => {
    const cached = await cluster.start({ SESSION_CACHE_MS: '400' });
    const user = await buildUser(cached);
    expect((await ok(cached, MeDocument, {}, user.token)).me.id).toBe(user.id);
    // Delete the session behind the instance's back: no logout, so no sessionRevoked event.
    const claims = JSON.parse(Buffer.from(user.token.split('.')[1], 'base64url').toString()) as { sid: string };
    // From the sessions table (the truth) and its copy in Redis.
    const redis = new Redis(TEST_REDIS_URL);
    const db = new Client({ connectionString: cluster.db.url });
    await db.connect();
    try {
      expect((await db.query('DELETE FROM sessions WHERE id = $1', [claims.sid])).rowCount).toBe(1);
      expect(await redis.del(`${cluster.redisPrefix}session:${claims.sid}`)).toBe(1);
    } finally {
      redis.disconnect();
      await db.end();
    }
    expect((await ok(cached, MeDocument, {}, user.token)).me.id).toBe(user.id);
    // Refused as soon as the cached entry expires: within 500 ms from now (400 ms and slack).
    await eventually(async () => codes(await http(cached, MeDocument, {}, user.token))[0] === 'UNAUTHENTICATED', 500);
    expect(codes(await http(cached, MeDocument, {}, user.token))).toEqual(['UNAUTHENTICATED']);
  });

  it('is evicted by logout at once, on the instance that logs out and on one that cached it', async () => {
    const other = await cluster.start({ SESSION_CACHE_MS: '60000' });
    const user = await buildUser(server);
    expect((await ok(other, MeDocument, {}, user.token)).me.id).toBe(user.id);
    expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);
    await ok(server, LogoutDocument, {}, user.token);
    expect(codes(await http(server, MeDocument, {}, user.token))).toEqual(['UNAUTHENTICATED']);
    // The event reaches the other instance through Redis pub/sub, a moment later.
    await eventually(async () => codes(await http(other, MeDocument, {}, user.token))[0] === 'UNAUTHENTICATED', 5_000);
  });
});

describe('WebSocket authentication', () => {
  it('closes with 4403 before any operation when the token is missing, bad or revoked', async () => {
    const user = await buildUser(server);
    const { login } = await ok(server, LoginDocument, { input: { username: user.username, password: user.password } });
    await ok(server, LogoutDocument, {}, login.token);
    for (const params of [null, { authToken: 'garbage' }, { Authorization: 'Basic abc' }, { authToken: login.token }]) {
      const client = wsClient(server, params);
      const sub = new Subscription(client, MessageAddedDocument, {});
      expect((await client.closed).code).toBe(4403);
      expect(sub.events).toEqual([]);
      await sub.dispose();
    }
  });

  it('closes the socket with 4403 when its token expires', async () => {
    const shortLived = await cluster.start({ TOKEN_TTL_SECONDS: '10' });
    const user = await buildUser(shortLived);
    const client = wsClient(shortLived, { authToken: user.token });
    const sub = new Subscription(client, MessageAddedDocument, {});
    const opened = Date.now();
    // An HTTP request has the instance remember the verified token.
    expect((await ok(shortLived, MeDocument, {}, user.token)).me.id).toBe(user.id);
    const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('still open'), 15_000))]);
    expect(closed).toEqual({ code: 4403, reason: 'Token expired' });
    expect(Date.now() - opened).toBeGreaterThan(7_000);
    // Remembered or not, once expired the token is refused over HTTP too.
    const after = await http(shortLived, MeDocument, {}, user.token);
    expect(after.status).toBe(401);
    expect(after.errors?.[0].message).toBe('Token expired');
    await sub.dispose();
  }, 20_000);
});
