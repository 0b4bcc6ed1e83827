import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';

/**
 * Parsed and validated documents by query text, for graphql-ws, which (unlike Apollo Server's
 * document store) parses and validates every operation it receives: in the send benchmark over
 * WebSocket, graphql-js validation took ~10% of the CPU for the same few documents. The same
 * idea as envelop's useParserCache/useValidationCache.
 *
 * @param max - documents kept (least recently used first out).
 * @returns `check(query)`: the document, or the parse/validation errors to answer with.
 */
export function createDocumentCache(schema: GraphQLSchema, max = 1000) {
  const cache = new LRUCache<string, DocumentNode | readonly GraphQLError[]>({ max });
  return (query: string): DocumentNode | readonly GraphQLError[] => {
    let entry = cache.get(query);
    if (entry === undefined) {
      try {
        const document = parse(query);
        const errors = validate(schema, document);
        entry = errors.length ? errors : document;
      } catch (err) {
        entry = [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
      }
      cache.set(query, entry);
    }
    return entry;
  };
}
