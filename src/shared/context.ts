import type { Container } from './container';
import type { LoaderSet } from './loader';

/** The authenticated user of a request or socket. */
export interface AuthUser {
  id: string;
}

/** The session behind the token: revoked by logout, ends at `expiresAt`. */
export interface AuthSession {
  id: string;
  expiresAt: Date;
}

/** A verified token whose session is live. */
export interface Authenticated {
  user: AuthUser;
  session: AuthSession;
}

/** An accepted WebSocket: its token's user and session, and the id of this connection. */
export interface SocketViewer extends Authenticated {
  connectionId: string;
}

/** Verifies bearer tokens for both transports; the auth module provides it. */
export interface Authenticator {
  /**
   * @param options.remember - cache the answer for the next requests (HTTP); sockets authenticate once.
   * @throws DomainError UNAUTHENTICATED for a bad, expired or revoked token.
   */
  authenticate(token: string, options?: { remember?: boolean }): Promise<Authenticated>;
}

/**
 * Per-request state, the only one there is (resolvers are singletons). Built by the HTTP context
 * factory per request and by the graphql-ws factory per operation (src/app/context.ts).
 */
export interface Context {
  user: AuthUser | null;
  session: AuthSession | null;
  /** DataLoaders of this request or operation, built on first use (see {@link LoaderSet}). */
  loaders: LoaderSet;
  requestId: string;
  /** The client's address (the TCP peer), for limits per address; empty when unknown. */
  clientIp?: string;
  /** The WebSocket connection an operation arrived on (presence is per connection); none over HTTP. */
  connectionId?: string;
  /** Resolver instances of this server (type-graphql's container getter reads it). */
  container: Container;
  /**
   * Set on the context of a subscription event executed once for every subscriber (see
   * src/shared/viewer-independence.ts): reading `user`, `session` or `connectionId` throws.
   */
  viewerBlind?: true;
  /**
   * Why the presented token was refused (UNAUTHENTICATED), for an HTTP request that came with a
   * bad, expired or revoked token: the request runs as anonymous, so that `login` and `register`
   * still work, and a protected field answers with this error (and status 401).
   */
  authFailure?: Error;
}

/** A context whose user is known: what `@Authorized()` resolvers receive. */
export type AuthedContext = Context & { user: AuthUser; session: AuthSession };
