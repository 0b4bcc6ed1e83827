import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { unauthenticated } from '../../shared/errors';

/** What a Parley access token says. */
export interface TokenClaims {
  /** user id */
  userId: string;
  /** session id, revocable by logout */
  sessionId: string;
  expiresAt: Date;
}

const ALGORITHM = 'HS256';

/**
 * The HMAC key object of a secret, to sign and verify with. Make it once: given a string,
 * jsonwebtoken first tries to read it as a PEM public key (a thrown and caught error) on every
 * sign and verify.
 */
export function hmacKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/**
 * Signs an access token (JWT, HS256) for a session.
 * @param ttlSeconds - lifetime in seconds; the token carries `exp` accordingly.
 */
export function signToken(
  claims: { userId: string; sessionId: string },
  secret: KeyObject | string,
  ttlSeconds: number,
): { token: string; expiresAt: Date } {
  const nowS = Math.floor(Date.now() / 1000);
  const exp = nowS + ttlSeconds;
  // jti: two tokens of one session signed within the same second (refreshToken) still differ.
  const jti = randomBytes(9).toString('base64url');
  const token = jwt.sign({ sub: claims.userId, sid: claims.sessionId, iat: nowS, exp, jti }, secret, {
    algorithm: ALGORITHM,
  });
  return { token, expiresAt: new Date(exp * 1000) };
}

/**
 * Verifies a token with the algorithm pinned (no `none`, no RS/HS confusion) and `exp` enforced.
 * @throws DomainError UNAUTHENTICATED for a malformed, forged or expired token.
 */
export function verifyToken(token: string, secret: KeyObject | string): TokenClaims {
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, secret, { algorithms: [ALGORITHM] });
  } catch (err) {
    throw unauthenticated(err instanceof jwt.TokenExpiredError ? 'Token expired' : 'Invalid token');
  }
  if (
    typeof payload !== 'object' ||
    typeof payload.sub !== 'string' ||
    typeof payload.sid !== 'string' ||
    typeof payload.exp !== 'number'
  ) {
    throw unauthenticated('Invalid token');
  }
  return { userId: payload.sub, sessionId: payload.sid, expiresAt: new Date(payload.exp * 1000) };
}
