import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

const printed = new WeakMap<object, string>();

/** The query text of a generated document, printed once. */
export function querySource(document: TypedDocumentNode<unknown, never> | TypedDocumentNode<any, any>): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

/** A GraphQL response body. */
export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/**
 * POSTs an operation with fetch, as an HTTP GraphQL client does.
 * @throws Error on a transport failure or any GraphQL error.
 */
export async function gqlHttp<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: querySource(document), variables }),
  });
  const body = (await res.json()) as GraphQLBody<T>;
  if (body.errors?.length || !body.data) throw new Error(`GraphQL errors (HTTP ${res.status}): ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}
