import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';
import { Pool } from 'undici';

const printed = new WeakMap<object, string>();

/** The query text of a generated document, printed once. */
export function querySource(document: DocumentNode): string {
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
export async function gqlHttp<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  token?: string,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: querySource(document), variables }),
  });
  const body = (await res.json()) as GraphQLBody<T>;
  if (body.errors?.length || !body.data)
    throw new Error(`GraphQL errors (HTTP ${res.status}): ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * A lean HTTP GraphQL client for load loops: undici's `Pool` (the HTTP/1.1 client Node.js's own
 * fetch is built on, called without fetch's WHATWG layer) over keep-alive sockets, one request
 * per socket at a time (no HTTP pipelining, as browsers and GraphQL clients send).
 *
 * The load generator's own CPU counts against the server when both share the cores, while the
 * node-postgres baselines have no HTTP client to pay for: this client costs less per request than
 * `node:http` or fetch (figures in bench/README.md).
 */
export class HttpLoadClient {
  private readonly pool: Pool;
  private readonly path: string;

  /** @param url - the GraphQL endpoint, `http://host:port/graphql`. */
  constructor(url: string) {
    const target = new URL(url);
    this.pool = new Pool(target.origin);
    this.path = target.pathname;
  }

  /**
   * POSTs a JSON body (already serialized) and parses the answer.
   * @throws Error on a transport failure or a non-JSON answer (GraphQL errors are returned, not thrown).
   */
  async post<T>(body: string, token?: string): Promise<GraphQLBody<T>> {
    const res = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: token
        ? { 'content-type': 'application/json', authorization: `Bearer ${token}` }
        : { 'content-type': 'application/json' },
      body,
    });
    const text = await res.body.text();
    try {
      return JSON.parse(text) as GraphQLBody<T>;
    } catch {
      throw new Error(`HTTP ${res.statusCode}: not a JSON answer`);
    }
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    void this.pool.destroy();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
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
