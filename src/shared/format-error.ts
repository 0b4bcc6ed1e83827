import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Logger } from '../shared/logger';
import { RETRY_AFTER_MS } from './errors';
import { isUnavailableError } from './unavailable';

/** Codes whose errors the client caused: their messages are safe to show. */
const CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const isClientCode = (code: unknown): code is string => typeof code === 'string' && CLIENT_CODES.has(code);

/** Extensions never sent: Apollo's HTTP status hint and any stack. */
const PRIVATE_EXTENSIONS = new Set(['http', 'stacktrace', 'exception']);

/**
 * The one error formatter, for HTTP (Apollo `formatError`) and WebSocket (graphql-ws `onNext` and
 * `onError`). A GraphQLError whose own code is a client code passes with its message and public
 * extensions; a failure because PostgreSQL or Redis is unavailable (see isUnavailableError) is
 * answered as SERVICE_UNAVAILABLE with `retryAfterMs`; anything else is logged with its stack and
 * answered as a masked INTERNAL_SERVER_ERROR, never with a stack or SQL.
 *
 * @param onCode - told the code of every error answered (the errors-by-code counter).
 * @param defaultCode - code for a GraphQLError that has none and no cause (graphql-ws validation
 *   errors), or `null` to mask those too.
 */
export function createErrorFormatter(log: Logger, onCode: (code: string) => void = () => undefined) {
  return (
    error: unknown,
    formatted?: GraphQLFormattedError,
    defaultCode: string | null = null,
  ): GraphQLFormattedError => {
    const base = formatted ?? (error instanceof GraphQLError ? error.toJSON() : { message: String(error) });
    const cause = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    // defaultCode also covers a code-less GraphQLError caused by another (a variable whose value a
    // scalar's parseValue refused), never a wrapped Error of another kind.
    const code =
      (cause as GraphQLError)?.extensions?.code ??
      (cause === error || cause instanceof GraphQLError ? defaultCode : null);
    // The client code is the cause's (a DomainError thrown by a resolver) or, failing that, the one
    // Apollo gave its own wrapper: a variable that does not coerce to its type ("Variable "$x" got
    // invalid value ...") is wrapped as BAD_USER_INPUT around graphql-js's code-less error.
    const source =
      cause instanceof GraphQLError && isClientCode(code)
        ? cause
        : error instanceof GraphQLError && isClientCode(error.extensions?.code)
          ? error
          : null;
    if (source) {
      const extensions = Object.fromEntries(
        Object.entries({ ...source.extensions, code: source === cause ? code : source.extensions.code }).filter(
          ([k]) => !PRIVATE_EXTENSIONS.has(k),
        ),
      );
      onCode(String(extensions.code));
      return { message: base.message, locations: base.locations, path: base.path, extensions };
    }
    if (isUnavailableError(cause)) {
      log.warn({ err: cause, path: base.path }, 'PostgreSQL or Redis unavailable');
      return {
        message: 'The service is temporarily unavailable: retry later',
        locations: base.locations,
        path: base.path,
        extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterMs: RETRY_AFTER_MS },
      };
    }
    log.error({ err: cause, path: base.path }, 'unexpected error while executing an operation');
    onCode('INTERNAL_SERVER_ERROR');
    return {
      message: 'Internal server error',
      locations: base.locations,
      path: base.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

export type ErrorFormatter = ReturnType<typeof createErrorFormatter>;
