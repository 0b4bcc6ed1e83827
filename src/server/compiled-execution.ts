import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** What a document compiled to: the compiled operation, or `null` when graphql-jit refused it. */
type Compiled = CompiledQuery | null;

/**
 * Executes HTTP operations with graphql-jit (Zalando's GraphQL JIT compiler, "graphql-jit" on
 * npm): each distinct operation is compiled once into a JavaScript function that walks its
 * selection set directly, instead of graphql-js interpreting the document for every object of
 * every response. The resolvers, the schema and what a client sees are the same.
 *
 * Measured on a 50-message history page: server CPU per page 2.17 -> 1.72 ms and pages/s +20% at
 * concurrency 8. graphql-js spent most of a page in per-field bookkeeping (`getArgumentValues`,
 * `executeFields`, `completeValue` for about 600 fields, each with new dictionaries) and the
 * garbage collection it caused.
 *
 * It is plugged in through Apollo Server's gateway interface (`@apollo/server-gateway-interface`,
 * the one way Apollo Server 5 takes another executor): `load` hands Apollo the schema and an
 * executor. Apollo still parses, validates (with its document cache), runs its plugins and
 * formats errors; only execution changes.
 *
 * - Compiled operations are kept per parsed document (Apollo's document cache hands back the same
 *   `DocumentNode` for the same query text), so they are dropped with the document.
 * - Variables that do not coerce, and documents graphql-jit does not compile, run through
 *   graphql-js's `execute` instead. Their errors are exactly graphql-js's, which Apollo reports
 *   as BAD_USER_INPUT.
 */
export function compiledExecution(schema: GraphQLSchema): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string | null, Compiled>>();

  const compile = (document: DocumentNode, operationName: string | null): Compiled => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    let entry = byName.get(operationName);
    if (entry === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      byName.set(operationName, (entry = isCompiledQuery(result) ? result : null));
    }
    return entry;
  };

  const executor: GatewayExecutor = async (request) => {
    const variableValues = request.request.variables ?? {};
    const interpreted = () =>
      execute({ schema, document: request.document, contextValue: request.context, variableValues, operationName: request.operationName }) as Promise<ExecutionResult> | ExecutionResult;
    const operation = compile(request.document, request.operationName);
    if (!operation) return interpreted();
    const result = await operation.query(undefined, request.context, variableValues);
    // No data at all: the variables did not coerce (nothing ran); let graphql-js word the errors.
    if (result.errors?.length && result.data === undefined) return interpreted();
    return result as ExecutionResult;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}
