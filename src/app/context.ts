import { randomUUID } from 'node:crypto';
import type { Authenticated, AuthSession, AuthUser, Context } from '../shared/context';
import type { Container } from '../shared/container';
import { LoaderSet, type LoaderDeps } from '../shared/loader';

/** Builds the context of one request or operation (see {@link createContextFactory}). */
export type ContextFactory = (
  auth: Authenticated | null,
  options: { cache: boolean; requestId?: string; connectionId?: string; clientIp?: string; authFailure?: Error },
) => Context;

/**
 * The one context factory of both transports. A context builds its loaders and its request id on
 * first use: a WebSocket subscription keeps its context for as long as it lives, and most never
 * read either.
 * - `auth`: the verified token, or `null` for an anonymous HTTP request.
 * - `options.cache`: loaders cache rows (one HTTP request) or only batch (a WebSocket operation,
 *   whose context graphql-ws keeps for the subscription's life).
 * - `options.requestId`: the caller's id (X-Request-Id), else a new UUID.
 * - `options.clientIp`: the TCP peer's address (limits per address).
 */
export function createContextFactory(loaderDeps: LoaderDeps): ContextFactory {
  return (auth, options) =>
    new RequestContext(
      loaderDeps,
      auth,
      options.cache,
      options.requestId,
      options.connectionId,
      options.clientIp,
      options.authFailure,
    );
}

/** {@link Context} with its loaders and request id made on first read. */
class RequestContext implements Context {
  readonly user: AuthUser | null;
  readonly session: AuthSession | null;
  readonly connectionId?: string;
  readonly clientIp?: string;
  readonly authFailure?: Error;
  private builtLoaders: LoaderSet | null = null;

  constructor(
    private readonly loaderDeps: LoaderDeps,
    auth: Authenticated | null,
    private readonly cache: boolean,
    private id: string | undefined,
    connectionId: string | undefined,
    clientIp: string | undefined,
    authFailure: Error | undefined,
  ) {
    this.user = auth?.user ?? null;
    this.session = auth?.session ?? null;
    if (connectionId) this.connectionId = connectionId;
    if (clientIp) this.clientIp = clientIp;
    if (authFailure) this.authFailure = authFailure;
  }

  get loaders(): LoaderSet {
    return (this.builtLoaders ??= new LoaderSet(this.loaderDeps, { cache: this.cache }));
  }

  get requestId(): string {
    return (this.id ??= randomUUID());
  }

  get container(): Container {
    return this.loaderDeps.container;
  }
}
