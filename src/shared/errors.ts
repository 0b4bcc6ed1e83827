import { GraphQLError } from 'graphql';

/** The machine codes of the API contract, carried in `extensions.code`. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/**
 * An error the client caused or may act on: its message and `extensions` reach the client as
 * they are. Anything else thrown by a resolver is logged and masked as INTERNAL_SERVER_ERROR by
 * `formatError` (src/server/format-error.ts).
 */
export class DomainError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'DomainError';
  }
}

/** BAD_USER_INPUT; `field` names the offending argument or input field. */
export const badInput = (message: string, field?: string): DomainError =>
  new DomainError('BAD_USER_INPUT', message, field ? { field } : {});
/** NOT_FOUND */
export const notFound = (message: string): DomainError => new DomainError('NOT_FOUND', message);
/** FORBIDDEN */
export const forbidden = (message: string): DomainError => new DomainError('FORBIDDEN', message);
/** UNAUTHENTICATED; over HTTP it is answered with status 401. */
export const unauthenticated = (message = 'Authentication required'): DomainError =>
  new DomainError('UNAUTHENTICATED', message, { http: { status: 401 } });
/** CONFLICT */
export const conflict = (message: string): DomainError => new DomainError('CONFLICT', message);

/** ms a client waits before retrying an operation that failed with SERVICE_UNAVAILABLE. */
export const RETRY_AFTER_MS = 1_000;

/**
 * SERVICE_UNAVAILABLE: PostgreSQL or Redis could not serve the operation (a connection refused or
 * terminated, a timeout). Retrying is safe and expected (a send with the same `clientMessageId`
 * is stored once); over HTTP it is answered with status 503 and `Retry-After` (whole seconds).
 * @param retryAfterMs - how long the client should wait before retrying, ms.
 */
export const serviceUnavailable = (retryAfterMs = RETRY_AFTER_MS): DomainError =>
  new DomainError('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable: retry later', {
    retryAfterMs,
    http: { status: 503, headers: retryAfterHeader(retryAfterMs) },
  });

/** `Retry-After` (RFC 9110, whole seconds, at least 1) for a wait of `ms`. */
export const retryAfterHeader = (ms: number): Map<string, string> =>
  new Map([['retry-after', String(Math.max(1, Math.ceil(ms / 1000)))]]);

/**
 * RATE_LIMITED: `limit` names the limit (see README, "Limits"); the client may retry after
 * `retryAfterMs` (ms). Over HTTP it is answered with status 429 and `Retry-After` (whole seconds).
 */
export const rateLimited = (
  limit: string,
  retryAfterMs: number,
  message = 'Too many requests: retry later',
): DomainError => {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return new DomainError('RATE_LIMITED', message, {
    limit,
    retryAfterMs: ms,
    http: { status: 429, headers: retryAfterHeader(ms) },
  });
};
