import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Instance } from './server';

/** A GraphQL-over-HTTP response, with the HTTP status. */
export interface HttpResult<T> {
  status: number;
  /** The `Retry-After` header, when the answer has one. */
  retryAfter?: string;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

/** POSTs a typed operation to `/graphql`, as any HTTP GraphQL client would. */
export async function http<T, V>(
  server: Pick<Instance, 'url'> | string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string | null,
): Promise<HttpResult<T>> {
  const res = await fetch(typeof server === 'string' ? server : server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const retryAfter = res.headers.get('retry-after') ?? undefined;
  return { status: res.status, retryAfter, ...((await res.json()) as Omit<HttpResult<T>, 'status' | 'retryAfter'>) };
}

/** Like {@link http} but fails the test on any error and returns `data`. */
export async function ok<T, V>(
  server: Pick<Instance, 'url'> | string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string | null,
): Promise<T> {
  const result = await http(server, document, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The `extensions.code` of each error of a result. */
export const codes = (result: { errors?: readonly GraphQLFormattedError[] }) =>
  (result.errors ?? []).map((e) => e.extensions?.code);

/** How a graphql-ws socket closed. */
export interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client of {@link wsClient}. */
export type WsClient = Client & {
  /** Resolves with the first close event. */
  closed: Promise<Closed>;
  /** Resolves on the server's `connection_ack`; rejects if the socket closes first. */
  acknowledged: Promise<void>;
};

/**
 * A graphql-ws client (the real `graphql-ws` package over `ws`) that does not retry, so that a
 * test sees the server's close codes.
 */
export function wsClient(server: Pick<Instance, 'wsUrl'>, connectionParams: Record<string, unknown> | null): WsClient {
  let onClosed!: (c: Closed) => void;
  let onAck!: () => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const acknowledged = new Promise<void>((resolve, reject) => {
    onAck = resolve;
    void closed.then((c) => reject(new Error(`socket closed before connection_ack: ${JSON.stringify(c)}`)));
  });
  // A test that expects a refusal never awaits the acknowledgement.
  acknowledged.catch(() => undefined);
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: connectionParams ?? undefined,
    lazy: false,
    retryAttempts: 0,
    shouldRetry: () => false,
    on: {
      connected: () => onAck(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => undefined,
  });
  return Object.assign(client, { closed, acknowledged });
}

/** A graphql-ws client of `user` whose connection is acknowledged (so its presence is registered). */
export async function connected(server: Pick<Instance, 'wsUrl'>, user: { token: string }): Promise<WsClient> {
  const client = wsClient(server, { authToken: user.token });
  await client.acknowledged;
  return client;
}

/** Runs a query or mutation over a graphql-ws connection; fails on errors. */
export function wsOk<T, V>(client: Client, document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let result: T | null = null;
    client.subscribe<T>(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (value) => {
          if (value.errors?.length) reject(new Error(JSON.stringify(value.errors)));
          else result = value.data as T;
        },
        error: reject,
        complete: () => (result ? resolve(result) : reject(new Error('no result'))),
      },
    );
  });
}

/**
 * A subscription whose events are collected as they arrive.
 * @typeParam V - the variables of its document (only the constructor reads them).
 */
export class Subscription<T, V extends Record<string, unknown> = Record<string, unknown>> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private waiters: Array<() => void> = [];
  private readonly unsubscribe: () => void;
  private readonly owned: Array<{ dispose: () => unknown }> = [];

  constructor(client: Client, document: TypedDocumentNode<T, V>, variables?: V) {
    this.unsubscribe = client.subscribe<T>(
      { query: print(document), variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.events.push(value.data);
          this.wake();
        },
        error: (err) => {
          this.errors.push(err);
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  /** Also disposes `owned` (the socket opened for this subscription) when the subscription is disposed. */
  owns(owned: { dispose: () => unknown }): this {
    this.owned.push(owned);
    return this;
  }

  /** Completes the subscription (and closes what it {@link owns}). */
  async dispose(): Promise<void> {
    this.unsubscribe();
    await Promise.all(this.owned.splice(0).map((o) => o.dispose()));
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `done()` holds, checked on each event, error and completion. */
  private async until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Waits until `count` events have arrived (or an error, or completion).
   * @param timeoutMs - fails the test after this long.
   */
  async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    await this.until(
      () => this.events.length >= count || this.errors.length > 0 || this.completed,
      timeoutMs,
      () => `${count} events (${this.events.length} arrived)`,
    );
    if (this.errors.length) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
    if (this.events.length < count)
      throw new Error(`subscription completed after ${this.events.length}/${count} events`);
    return this.events.slice(0, count);
  }

  /** Waits for the first event matching `match` (searching from the first event) and returns it. */
  async waitForMatch(match: (event: T) => boolean, timeoutMs = 10_000): Promise<T> {
    let found: T | undefined;
    await this.until(
      () => (found = this.events.find(match)) !== undefined || this.errors.length > 0 || this.completed,
      timeoutMs,
      () => `a matching event (${this.events.length} others arrived)`,
    );
    if (this.errors.length) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
    if (found === undefined) throw new Error('subscription completed without a matching event');
    return found;
  }

  /** Waits for the subscription to fail and returns the codes of its errors. */
  async failure(timeoutMs = 10_000): Promise<unknown[]> {
    await this.until(
      () => this.errors.length > 0,
      timeoutMs,
      () => 'the subscription to fail',
    );
    return this.errors
      .flatMap((e): unknown[] => (Array.isArray(e) ? e : [e]))
      .map((e) => (e as GraphQLFormattedError).extensions?.code);
  }
}
