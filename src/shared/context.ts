import type { Loaders } from '../server/loaders';
import type { Container } from '../server/container';

/** The authenticated user of a request or socket. */
export interface AuthUser {
  id: string;
}

/** The session behind the token: revoked by logout, ends at `expiresAt`. */
export interface AuthSession {
  id: string;
  expiresAt: Date;
}

/**
 * Per-request state, the only one there is (resolvers are singletons). Built by the HTTP context
 * factory per request and by the graphql-ws factory per operation.
 */
export interface Context {
  user: AuthUser | null;
  session: AuthSession | null;
  loaders: Loaders;
  requestId: string;
  /** The WebSocket connection an operation arrived on (presence is per connection); none over HTTP. */
  connectionId?: string;
  /** Resolver instances of this server (type-graphql's container getter reads it). */
  container: Container;
}

/** A context whose user is known: what `@Authorized()` resolvers receive. */
export type AuthedContext = Context & { user: AuthUser; session: AuthSession };
