import { LoginDocument, MeDocument, RefreshTokenDocument, RegisterDocument } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { signToken } from '../../src/modules/auth/tokens';
import { codes, http, ok, wsClient } from '../support/clients';
import { buildUser } from '../support/factories';
import { useInstances } from '../support/server';

const setup = useInstances(1);
let server: ParleyServer;
beforeAll(() => ({ a: server } = setup));

// Signed with another secret (a token from an old deployment).
const stale = () => signToken({ userId: 'x', sessionId: 'y' }, 'b'.repeat(40), -10).token;

describe('a stale Authorization header', () => {
  it('does not stop login or register', async () => {
    const user = await buildUser(server);
    for (const token of [stale(), 'not-a-jwt']) {
      const { login } = await ok(
        server,
        LoginDocument,
        { input: { username: user.username, password: user.password } },
        token,
      );
      expect(login.user.id).toBe(user.id);
    }
    const { register } = await ok(
      server,
      RegisterDocument,
      { input: { username: 'stale_header_reg', password: 'password123' } },
      stale(),
    );
    expect(register.user.username).toBe('stale_header_reg');
  });

  it('still answers a protected field with 401 UNAUTHENTICATED and the reason', async () => {
    const result = await http(server, MeDocument, {}, stale());
    expect(result.status).toBe(401);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors![0].message).toBe('Invalid token');
  });
});

describe('a missing token', () => {
  it("answers a protected field with 401 UNAUTHENTICATED and Parley's message", async () => {
    const result = await http(server, MeDocument, {});
    expect(result.status).toBe(401);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors![0].message).toMatch(/^Authentication required/);
    expect(result.errors![0].message).not.toMatch(/Access denied/);
  });
});

describe('refreshToken', () => {
  it('returns a new token for the same session; both tokens work', async () => {
    const user = await buildUser(server);
    const { refreshToken } = await ok(server, RefreshTokenDocument, {}, user.token);
    expect(refreshToken.token).not.toBe(user.token);
    expect(refreshToken.user.id).toBe(user.id);
    expect(new Date(refreshToken.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect((await ok(server, MeDocument, {}, refreshToken.token)).me.id).toBe(user.id);
    expect((await ok(server, MeDocument, {}, user.token)).me.id).toBe(user.id);
    // The fresh token opens a socket too.
    const client = wsClient(server, { authToken: refreshToken.token });
    await client.acknowledged;
    await client.dispose();
  });

  it('is UNAUTHENTICATED without a token', async () => {
    const result = await http(server, RefreshTokenDocument, {});
    expect(result.status).toBe(401);
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
  });
});
