import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { withoutSuggestions } from '../shared/operation-guard';
import { LRUCache } from 'lru-cache';

/** A query text as first received, and what checking it gave. */
interface Checked {
  text: string;
  result: DocumentNode | readonly GraphQLError[];
}

/**
 * Parsed and validated documents by query text, for graphql-ws, which (unlike Apollo Server's
 * document store) parses and validates every operation it receives. The same idea as envelop's
 * useParserCache/useValidationCache.
 *
 * @param options.rules - validation rules run after graphql's specified rules (the guard's limits).
 * @param options.parseOptions - `maxTokens`.
 * @param options.fieldSuggestions - false: "Did you mean ...?" is cut from validation messages.
 * @param max - documents kept (least recently used first out).
 * @returns `check(query)`: the document, or the parse/validation errors to answer with; and
 *   `intern(query)`: the cached copy of a query text equal to `query` (else `query` itself), so
 *   that the thousands of subscriptions with one document keep one string between them instead of
 *   one each (graphql-ws keeps each subscribe message for as long as its subscription runs).
 */
export function createDocumentCache(
  schema: GraphQLSchema,
  options: { rules?: readonly ValidationRule[]; parseOptions?: ParseOptions; fieldSuggestions?: boolean } = {},
  max = 1000,
) {
  const cache = new LRUCache<string, Checked>({ max });
  const rules = [...specifiedRules, ...(options.rules ?? [])];
  const hide = (error: GraphQLError) =>
    options.fieldSuggestions === false
      ? new GraphQLError(withoutSuggestions(error.message), { nodes: error.nodes, extensions: error.extensions })
      : error;
  return {
    check(query: string): DocumentNode | readonly GraphQLError[] {
      let entry = cache.get(query);
      if (entry === undefined) {
        let result: Checked['result'];
        try {
          const document = parse(query, options.parseOptions);
          const errors = validate(schema, document, rules);
          result = errors.length ? errors.map(hide) : document;
        } catch (err) {
          result = [err instanceof GraphQLError ? hide(err) : new GraphQLError(String(err))];
        }
        cache.set(query, (entry = { text: query, result }));
      }
      return entry.result;
    },
    intern(query: string): string {
      return cache.peek(query)?.text ?? query;
    },
  };
}
