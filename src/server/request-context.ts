import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { AuthService, Authenticated } from '../modules/auth/auth.service';
import type { PresenceService } from '../modules/presence/presence.service';
import type { Context } from '../shared/context';
import type { Container } from './container';
import type { ErrorFormatter } from './format-error';
import { createLoaders } from './loaders';
import type { Metrics } from './metrics';

/** What both transports (HTTP and WebSocket) need from the composition root. */
export interface TransportDeps {
  schema: GraphQLSchema;
  httpServer: Server;
  ds: DataSource;
  auth: AuthService;
  presence: PresenceService;
  container: Container;
  metrics: Metrics;
  formatError: ErrorFormatter;
}

/**
 * The one context factory of both transports.
 * @param auth - the verified token, or `null` for an anonymous HTTP request.
 * @param options.cache - loaders cache rows (one HTTP request) or only batch (a WebSocket operation).
 * @param options.requestId - the caller's id (X-Request-Id), else a new UUID.
 */
export function createRequestContext(
  deps: TransportDeps,
  auth: Authenticated | null,
  options: { cache: boolean; requestId?: string; connectionId?: string },
): Context {
  return {
    user: auth?.user ?? null,
    session: auth?.session ?? null,
    loaders: createLoaders(deps.ds, { cache: options.cache }, deps.presence),
    requestId: options.requestId ?? randomUUID(),
    ...(options.connectionId ? { connectionId: options.connectionId } : {}),
    container: deps.container,
  };
}
