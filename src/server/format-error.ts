import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from '../shared/logger';

/** Codes whose errors the client caused: their messages are safe to show. */
const CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Extensions never sent: Apollo's HTTP status hint and any stack. */
const PRIVATE_EXTENSIONS = new Set(['http', 'stacktrace', 'exception']);

/**
 * The one error formatter, for HTTP (Apollo `formatError`) and WebSocket (graphql-ws `onNext` and
 * `onError`). A GraphQLError whose own code is a client code passes with its message and public
 * extensions; anything else is logged with its stack and answered as a masked
 * INTERNAL_SERVER_ERROR, never with a stack or SQL.
 *
 * @param defaultCode - code for a GraphQLError that has none and no cause (graphql-ws validation
 *   errors), or `null` to mask those too.
 */
export function createErrorFormatter(log: Logger) {
  return (error: unknown, formatted?: GraphQLFormattedError, defaultCode: string | null = null): GraphQLFormattedError => {
    const base = formatted ?? (error instanceof GraphQLError ? error.toJSON() : { message: String(error) });
    const cause = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    const code = (cause as GraphQLError)?.extensions?.code ?? (cause === error ? defaultCode : null);
    if (cause instanceof GraphQLError && typeof code === 'string' && CLIENT_CODES.has(code)) {
      const extensions = Object.fromEntries(
        Object.entries({ ...cause.extensions, code }).filter(([k]) => !PRIVATE_EXTENSIONS.has(k)),
      );
      return { message: base.message, locations: base.locations, path: base.path, extensions };
    }
    log.error({ err: cause, path: base.path }, 'unexpected error while executing an operation');
    return {
      message: 'Internal server error',
      locations: base.locations,
      path: base.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

export type ErrorFormatter = ReturnType<typeof createErrorFormatter>;
