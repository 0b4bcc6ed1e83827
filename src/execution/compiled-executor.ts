import { execute, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** What a document compiled to: the compiled operation, or `null` when graphql-jit refused it. */
type Compiled = CompiledQuery | null;

/** The arguments of one query or mutation, as graphql-js's `execute` takes them. */
export interface OperationArgs {
  document: DocumentNode;
  operationName?: string | null;
  contextValue?: unknown;
  variableValues?: Readonly<Record<string, unknown>> | null;
}

/** Executes queries and mutations (never subscriptions) for both transports; see {@link createCompiledExecutor}. */
export interface CompiledExecutor {
  /**
   * Executes one query or mutation; resolves to its result and never rejects for a GraphQL error.
   * Documents graphql-jit refuses and variables that do not coerce go through graphql-js.
   */
  execute(args: OperationArgs): Promise<ExecutionResult>;
  /**
   * Executes one query or mutation with graphql-jit only: `null` when graphql-jit refused the
   * document or the variables did not coerce (nothing ran), for the caller to execute with graphql-js.
   */
  executeCompiled(args: OperationArgs): Promise<ExecutionResult | null>;
}

/**
 * Executes queries and mutations with graphql-jit (Zalando's GraphQL JIT compiler): each distinct
 * operation is compiled once into a function that walks its selection set, instead of graphql-js
 * interpreting the document for every object of every response. Resolvers, schema and answers
 * are the same (bench/README.md has the measured gain).
 *
 * - Compiled operations are kept per parsed document (Apollo's document cache and the WebSocket
 *   side's document-cache.ts hand back one `DocumentNode` per query text), dropped with it.
 * - Variables that do not coerce, and documents graphql-jit does not compile, go through
 *   graphql-js's `execute`, so those errors are exactly graphql-js's.
 */
export function createCompiledExecutor(schema: GraphQLSchema): CompiledExecutor {
  const compiled = new WeakMap<DocumentNode, Map<string | null, Compiled>>();

  const compile = (document: DocumentNode, operationName: string | null): Compiled => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map<string | null, Compiled>()));
    let entry = byName.get(operationName);
    if (entry === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      byName.set(operationName, (entry = isCompiledQuery(result) ? result : null));
    }
    return entry;
  };

  const executeCompiled = async ({
    document,
    operationName = null,
    contextValue,
    variableValues,
  }: OperationArgs): Promise<ExecutionResult | null> => {
    const operation = compile(document, operationName);
    if (!operation) return null;
    const result = (await operation.query(undefined, contextValue, variableValues ?? {})) as ExecutionResult;
    return result.errors?.length && result.data === undefined ? null : result;
  };

  return {
    executeCompiled,
    async execute(args) {
      return (
        (await executeCompiled(args)) ??
        execute({
          schema,
          document: args.document,
          contextValue: args.contextValue,
          variableValues: args.variableValues ?? {},
          operationName: args.operationName,
        })
      );
    },
  };
}
