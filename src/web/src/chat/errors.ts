/** The parts of a GraphQL error the client reads (urql's CombinedError carries a list of them). */
export interface ErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

/** What went wrong with a request: GraphQL errors, or none and a network error. */
export interface FailureLike {
  graphQLErrors?: readonly ErrorLike[];
  networkError?: unknown;
}

/**
 * `extensions.reason` of the FORBIDDEN that refuses a direct send or start because of a block (it
 * does not say who blocks whom).
 */
export const CANNOT_MESSAGE_USER = 'CANNOT_MESSAGE_USER';

/** Whether a failure is a rate limit, and how long to wait (ms) before trying again; null if not. */
export function rateLimitWait(failure: FailureLike): number | null {
  const first = failure.graphQLErrors?.[0];
  if (first?.extensions?.code !== 'RATE_LIMITED') return null;
  const ms = first.extensions.retryAfterMs;
  return typeof ms === 'number' && ms >= 0 ? ms : 1000;
}

/** Seconds to wait, rounded up, from `extensions.retryAfterMs` (ms); null when absent. */
export function retryAfterSeconds(error: ErrorLike): number | null {
  const ms = error.extensions?.retryAfterMs;
  return typeof ms === 'number' && ms >= 0 ? Math.max(1, Math.ceil(ms / 1000)) : null;
}

/**
 * A failure in words for a person, by the machine code of its first GraphQL error (the API's
 * `extensions.code`): wrong password, rate limited with when to try again, not a participant,
 * offline. `action` says what was attempted, e.g. "log in".
 */
export function describeFailure(failure: FailureLike, action: 'log in' | 'sign up' | 'other' = 'other'): string {
  const first = failure.graphQLErrors?.[0];
  if (!first) {
    return failure.networkError
      ? 'You are offline or the server cannot be reached. Check your connection and try again.'
      : 'Something went wrong. Try again.';
  }
  switch (first.extensions?.code) {
    case 'RATE_LIMITED': {
      const s = retryAfterSeconds(first);
      return s === null ? 'Too many requests: try again in a moment.' : `Too many requests: try again in ${s} s.`;
    }
    case 'UNAUTHENTICATED':
      return action === 'log in' ? 'Wrong username or password.' : 'Your session has ended. Log in again.';
    case 'FORBIDDEN':
      return first.extensions?.reason === CANNOT_MESSAGE_USER
        ? 'You cannot message this person: they are not accepting messages from you.'
        : 'You are not a participant of this conversation.';
    case 'NOT_FOUND':
      return 'That conversation or person does not exist.';
    case 'CONFLICT':
      return action === 'sign up' ? 'That username is taken. Choose another.' : first.message;
    case 'BAD_USER_INPUT':
      return first.message;
    default:
      return 'Something went wrong on the server. Try again.';
  }
}

/** Whether a failure means the token is no longer accepted (log in again). */
export const isUnauthenticated = (failure: FailureLike): boolean =>
  failure.graphQLErrors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;
