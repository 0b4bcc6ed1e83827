import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener, type GraphQLResponse } from '@apollo/server';
import { GraphQLError, OperationTypeNode, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { CompiledExecutor } from '../execution/compiled-executor';
import type { Context } from '../shared/context';
import { retryAfterHeader } from '../shared/errors';
import type { ErrorFormatter } from '../shared/format-error';
import { operationLabel, type Metrics } from '../shared/metrics';

/**
 * The Apollo Server plugin that runs HTTP queries and mutations on `executor` (graphql-jit),
 * through Apollo's `responseForOperation` hook: Apollo Server still parses, validates (with its
 * document cache), enforces GET-only-queries and CSRF prevention and runs every plugin hook up to
 * `didResolveOperation`; the plugin then answers the operation, and Apollo skips its own execution.
 * It also counts operations (`parley_graphql_operations_total{transport="http"}`) and times
 * their execution (`parley_graphql_operation_duration_seconds`, one observation each).
 *
 * - An operation graphql-jit refuses, or whose variables do not coerce, is left to Apollo's own
 *   execution (graphql-js), which reports a bad variable as BAD_USER_INPUT with status 400.
 * - A subscription is answered with BAD_REQUEST (status 400): subscriptions are served over
 *   graphql-ws on the same path.
 * - Errors in a result go through `formatError` the way Apollo formats its own
 *   (`normalizeAndFormatErrors` in @apollo/server): `extensions.code` defaults to
 *   INTERNAL_SERVER_ERROR, and `extensions.http` (UNAUTHENTICATED's 401, RATE_LIMITED's 429 and
 *   Retry-After) sets the answer's status and headers; an error the formatter answers with
 *   SERVICE_UNAVAILABLE sets 503.
 * - Plugins that watch Apollo's own execution (`executionDidStart`, `willResolveField`, such as
 *   Apollo's usage-reporting traces when APOLLO_KEY is set) see none for the operations it answers.
 *
 * Not Apollo's gateway interface: its per-operation request context keeps every answered request
 * alive past young-generation collections (bench/README.md, "HTTP execution").
 */
export function compiledExecutionPlugin(
  executor: CompiledExecutor,
  formatError: ErrorFormatter,
  metrics: Metrics,
): ApolloServerPlugin<Context> {
  // One listener for every request: its hooks take the request as an argument.
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ operation }) {
      metrics.operations.inc({ transport: 'http', type: operation?.operation ?? 'unknown' });
    },
    async responseForOperation({ document, operation, operationName, request, contextValue }) {
      if (operation.operation === OperationTypeNode.SUBSCRIPTION)
        return toResponse({ errors: [SUBSCRIPTION_OVER_HTTP] }, formatError);
      const start = performance.now();
      const result = await executor.executeCompiled({
        document,
        operationName,
        contextValue,
        variableValues: request.variables,
      });
      if (result)
        metrics.operationDuration.observe(
          { transport: 'http', type: operation.operation, operation: operationLabel(operationName) },
          (performance.now() - start) / 1000,
        );
      return result && toResponse(result, formatError);
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/** The status and headers set by an error's `extensions.http` (Apollo Server's convention), if any. */
function httpOf(error: GraphQLError): { status?: unknown; headers?: unknown } | undefined {
  return error.extensions?.http as { status?: unknown; headers?: unknown } | undefined;
}

/** Apollo's answer for `result`, its errors formatted as {@link compiledExecutionPlugin} says. */
function toResponse(result: ExecutionResult, formatError: ErrorFormatter): GraphQLResponse {
  let status: number | undefined;
  let errors: GraphQLFormattedError[] | undefined;
  const headers = new HeaderMap();
  if (result.errors?.length) {
    errors = result.errors.map((error) => {
      const http = httpOf(error);
      if (typeof http?.status === 'number') status = http.status;
      if (http?.headers instanceof Map) for (const [k, v] of http.headers as Map<string, string>) headers.set(k, v);
      const formatted = error.toJSON();
      const answer = formatError(error, {
        ...formatted,
        extensions: { ...formatted.extensions, code: error.extensions?.code ?? 'INTERNAL_SERVER_ERROR' },
      });
      // PostgreSQL or Redis unavailable (recognized by the formatter): 503, retryable.
      if (answer.extensions?.code === 'SERVICE_UNAVAILABLE') {
        status = 503;
        const wait = answer.extensions.retryAfterMs;
        if (typeof wait === 'number') for (const [k, v] of retryAfterHeader(wait)) headers.set(k, v);
      }
      return answer;
    });
  }
  return {
    http: { status, headers },
    body: { kind: 'single', singleResult: errors ? { data: result.data, errors } : { data: result.data } },
  };
}

/** Subscriptions are not served over HTTP (400 BAD_REQUEST). */
const SUBSCRIPTION_OVER_HTTP = new GraphQLError(
  'Subscriptions are served over WebSocket (graphql-ws) at this path, not over HTTP',
  {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  },
);
