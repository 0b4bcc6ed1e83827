import type { DocumentNode, ParseOptions, ValidationRule } from 'graphql';
import type { Context, SocketViewer } from './context';

/** An operation about to execute, as both transports describe it to an {@link OperationGuard}. */
export interface GuardedOperation {
  /** Parsed and validated (with {@link OperationGuard.validationRules}). */
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  context: Context;
  transport: 'http' | 'ws';
}

/**
 * The limits every operation and socket passes, one policy for both transports (a module provides
 * it, see `ModuleInstance.guard`): HTTP (Apollo Server) and graphql-ws apply the same rules with
 * the same code, before anything executes.
 */
export interface OperationGuard {
  /** Parse options of every document (`maxTokens`). */
  readonly parseOptions: ParseOptions;
  /** Validation rules run after graphql's own on every document; their answers are cached with it. */
  readonly validationRules: readonly ValidationRule[];
  /** Whether validation errors may suggest field and type names ("Did you mean ...?"). */
  readonly fieldSuggestions: boolean;
  /** Most subscriptions one socket may run at once. */
  readonly maxSubscriptionsPerSocket: number;
  /**
   * Called once a document is valid, before it executes (rate limits, cost, input strings).
   * @throws GraphQLError to refuse the operation (RATE_LIMITED, BAD_USER_INPUT, ...).
   */
  check(operation: GuardedOperation): Promise<void>;
  /**
   * Admits an authenticated socket (connections per user and per client address).
   * @returns what the socket holds until it closes, for {@link leaveSocket}: a small integer, so
   *   that thousands of sockets keep no function or object for it.
   * @throws DomainError RATE_LIMITED when the socket is over a limit.
   */
  admitSocket(viewer: SocketViewer, clientIp: string): Promise<SocketAdmission>;
  /** Gives back the places of a socket admitted with `admission` (call once, when it closes). */
  leaveSocket(viewer: SocketViewer, clientIp: string, admission: SocketAdmission): void;
  /** Counts a refusal made by a transport (`parley_refusals_total`). */
  refused(limit: string, reason: string): void;
}

/**
 * What {@link OperationGuard.admitSocket} counted for a socket, as the guard encodes it (bit
 * flags of the caps that hold a place; 0 when none does).
 */
export type SocketAdmission = number;

/** The guard of a server without one: no limits beyond graphql's own validation. */
export const noGuard: OperationGuard = {
  parseOptions: {},
  validationRules: [],
  fieldSuggestions: true,
  maxSubscriptionsPerSocket: Number.POSITIVE_INFINITY,
  check: async () => undefined,
  admitSocket: async () => 0,
  leaveSocket: () => undefined,
  refused: () => undefined,
};

/** Validation messages without graphql-js's "Did you mean ...?" hints (the schema stays unrevealed). */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}
