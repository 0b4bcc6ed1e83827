import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { Context } from '../shared/context';
import type { OperationGuard } from '../shared/operation-guard';

/**
 * Runs the guard's checks (cost, input strings, rate limits) on every HTTP operation once Apollo
 * has parsed and validated it, before it executes. An error thrown here is Apollo's answer, its
 * status and headers from `extensions.http` (RATE_LIMITED: 429 with Retry-After).
 */
export function guardPlugin(guard: OperationGuard): ApolloServerPlugin<Context> {
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ document, operationName, request, contextValue }) {
      await guard.check({
        document,
        operationName,
        variables: request.variables,
        context: contextValue,
        transport: 'http',
      });
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
