import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { AuthService, Authenticated } from '../modules/auth/auth.service';
import type { PresenceService } from '../modules/presence/presence.service';
import type { AuthSession, AuthUser, Context } from '../shared/context';
import type { CompiledExecutor } from './compiled-execution';
import type { Container } from './container';
import type { ErrorFormatter } from './format-error';
import { createLoaders, type Loaders } from './loaders';
import type { Metrics } from './metrics';

/** What both transports (HTTP and WebSocket) need from the composition root. */
export interface TransportDeps {
  schema: GraphQLSchema;
  /** Executes queries and mutations (graphql-jit; both transports share its compiled operations). */
  executor: CompiledExecutor;
  httpServer: Server;
  ds: DataSource;
  auth: AuthService;
  presence: PresenceService;
  container: Container;
  metrics: Metrics;
  formatError: ErrorFormatter;
}

/**
 * The one context factory of both transports. The context builds its loaders and its request id
 * on first use: a WebSocket subscription keeps its context for as long as it lives, and most
 * never read either (a UUID string and a Loaders object per subscribed socket otherwise).
 * @param auth - the verified token, or `null` for an anonymous HTTP request.
 * @param options.cache - loaders cache rows (one HTTP request) or only batch (a WebSocket operation).
 * @param options.requestId - the caller's id (X-Request-Id), else a new UUID.
 */
export function createRequestContext(
  deps: TransportDeps,
  auth: Authenticated | null,
  options: { cache: boolean; requestId?: string; connectionId?: string },
): Context {
  return new RequestContext(deps, auth, options.cache, options.requestId, options.connectionId);
}

/** {@link Context} with its loaders and request id made on first read. */
class RequestContext implements Context {
  readonly user: AuthUser | null;
  readonly session: AuthSession | null;
  readonly connectionId?: string;
  private builtLoaders: Loaders | null = null;

  constructor(
    private readonly deps: TransportDeps,
    auth: Authenticated | null,
    private readonly cache: boolean,
    private id: string | undefined,
    connectionId: string | undefined,
  ) {
    this.user = auth?.user ?? null;
    this.session = auth?.session ?? null;
    if (connectionId) this.connectionId = connectionId;
  }

  get loaders(): Loaders {
    return (this.builtLoaders ??= createLoaders(this.deps.ds, { cache: this.cache }, this.deps.presence));
  }

  get requestId(): string {
    return (this.id ??= randomUUID());
  }

  get container(): Container {
    return this.deps.container;
  }
}
