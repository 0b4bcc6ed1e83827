import type { GraphQLSchema } from 'graphql';
import type Redis from 'ioredis';
import type { Config } from '../config/config';
import type { Db } from '../db/sql';
import type { EventBus } from '../pubsub/event-bus';
import type { Authenticator, SocketViewer } from '../shared/context';
import type { Container } from '../shared/container';
import type { StreamObserver } from '../shared/live-stream';
import type { Logger } from '../shared/logger';
import type { OperationGuard } from '../shared/operation-guard';
import type { Metrics } from '../shared/metrics';
import type { ViewerIndependentFields } from '../shared/viewer-independence';

/** A class type-graphql can build a schema from (a resolver class). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's own ClassType is `Function`-based
export type ResolverClass = Function;

/** The sockets of this instance, by session: what a module may close (logout, revocation). */
export interface SessionSocketControl {
  /** Closes every socket opened with the session with 4403 and `reason`. @returns how many were closed. */
  closeSession(sessionId: string, reason: string): number;
  /** The ids of the sessions that have an open socket here, each once. */
  openSessions(): string[];
}

/** What every module's {@link ParleyModule.build} gets: the instance's infrastructure, built once. */
export interface ModuleContext {
  config: Config;
  /** SQL on PostgreSQL (or the embedded PGlite): see src/db/sql.ts. */
  db: Db;
  bus: EventBus;
  /** The Redis command connection; `null` on the embedded default (modules use in-process stores). */
  redis: Redis | null;
  log: Logger;
  metrics: Metrics;
  /** Told when a subscription's stream is live and when it ends (metrics, tests). */
  streams: StreamObserver;
  sockets: SessionSocketControl;
  /** Services and resolvers of the modules built before this one (registry order). */
  container: Container;
}

/** What a module's {@link ParleyModule.build} returns. */
export interface ModuleInstance {
  /** Services and resolver instances, registered in the container by their class. */
  provides: object[];
  /** Called in registry order once every module is built, before the server listens. */
  start?: () => Promise<void>;
  /** Called in reverse registry order when the server stops, before sockets close and pools drain. */
  stop?: () => Promise<void>;
  /** Readiness checks by name (`/readyz`): resolve `true` when healthy. */
  health?: Record<string, () => Promise<boolean>>;
  /** Called once a WebSocket's token is accepted, before its `connection_ack`. */
  socketOpened?: (viewer: SocketViewer) => Promise<void>;
  /** Called once when an accepted WebSocket closes. */
  socketClosed?: (viewer: SocketViewer) => void;
  /** Verifies bearer tokens for both transports (the auth module). */
  authenticator?: Authenticator;
  /**
   * Builds the limits every operation and socket passes on both transports (the safety module):
   * parse and validation limits, checks before execution, socket admission. Called with the
   * built schema; at most one module gives one (none: no limits beyond graphql's validation).
   */
  guard?: (schema: GraphQLSchema) => OperationGuard;
}

/**
 * One feature: its GraphQL types and resolvers, TypeORM entities, services, topics, loaders and
 * health checks, behind one object. The registry (src/modules/index.ts) lists the modules; the
 * composition root (src/app) only iterates it. A module reaches another through the container
 * (`ctx.container.get(ConversationsService)`), so it must come later in the registry.
 */
export interface ParleyModule {
  /** kebab-case, for logs. */
  readonly name: string;
  /**
   * Resolver classes for the schema. A `@Subscription` method returns its `@Root()`, the event:
   * the schema resolves every subscription field to its event (src/app/schema.ts).
   */
  readonly resolvers: readonly ResolverClass[];
  /** TypeORM entities of the tables this module owns (their schema lives in migrations/). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM takes entity classes as `Function`
  readonly entities?: readonly Function[];
  /** Fields of this module's types that every viewer sees alike (see src/shared/viewer-independence.ts). */
  readonly viewerIndependent?: readonly ViewerIndependentFields[];
  /** Adjusts the built schema (a field's resolver on a hot path). */
  readonly adjustSchema?: (schema: GraphQLSchema) => void;
  /** Builds the module's services and resolver instances for one server. */
  build(ctx: ModuleContext): ModuleInstance | Promise<ModuleInstance>;
}

/** Declares a module (an identity function, for type checking at the definition). */
export const defineModule = (module: ParleyModule): ParleyModule => module;
