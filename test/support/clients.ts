import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { RegisterDocument, type RegisterMutation } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';

/** A GraphQL-over-HTTP response, with the HTTP status. */
export interface HttpResult<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

/** POSTs a typed operation to `/graphql`, as any HTTP GraphQL client would. */
export async function http<T, V>(
  server: ParleyServer | string,
  document: TypedDocumentNode<T, V>,
  variables?: V,
  token?: string | null,
): Promise<HttpResult<T>> {
  const res = await fetch(typeof server === 'string' ? server : server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<HttpResult<T>, 'status'>) };
}

/** Like {@link http} but fails the test on any error and returns `data`. */
export async function ok<T, V>(server: ParleyServer | string, document: TypedDocumentNode<T, V>, variables?: V, token?: string | null): Promise<T> {
  const result = await http(server, document, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The `extensions.code` of each error of a result. */
export const codes = (result: { errors?: readonly GraphQLFormattedError[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

let userCounter = 0;

/** A registered user with a live token. */
export type TestUser = RegisterMutation['register']['user'] & { token: string };

/** Registers a fresh user with a unique name (the password is `password123`). */
export async function registerUser(server: ParleyServer, prefix = 'user'): Promise<TestUser> {
  const username = `${prefix}${process.pid}_${++userCounter}_${Math.floor(Math.random() * 1e6)}`.slice(0, 32);
  const { register } = await ok(server, RegisterDocument, { input: { username, password: 'password123' } });
  return { ...register.user, token: register.token };
}

/** How a graphql-ws socket closed. */
export interface Closed {
  code: number;
  reason: string;
}

/**
 * A graphql-ws client (the real `graphql-ws` package over `ws`) that does not retry, so that a
 * test sees the server's close codes. `closed` resolves with the first close event.
 */
export function wsClient(server: ParleyServer, connectionParams: Record<string, unknown> | null): Client & { closed: Promise<Closed> } {
  let onClosed!: (c: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: connectionParams ?? undefined,
    lazy: false,
    retryAttempts: 0,
    shouldRetry: () => false,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => undefined,
  });
  return Object.assign(client, { closed });
}

/** A subscription whose events are collected as they arrive. */
export class Subscription<T> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private waiters: Array<() => void> = [];
  readonly dispose: () => void;

  constructor(client: Client, document: TypedDocumentNode<T, any>, variables?: Record<string, unknown>) {
    this.dispose = client.subscribe<T>(
      { query: print(document), variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.events.push(value.data as T);
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

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Waits until `count` events have arrived (or an error, or completion).
   * @param timeoutMs - fails the test after this long.
   */
  async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count && this.errors.length === 0 && !this.completed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length}/${count} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.errors.length) throw new Error(`subscription failed: ${JSON.stringify(this.errors)}`);
    return this.events.slice(0, count);
  }

  /** Waits for the subscription to fail and returns the codes of its errors. */
  async failure(timeoutMs = 10_000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.errors.flatMap((e) => (Array.isArray(e) ? e : [e])).map((e) => (e as GraphQLFormattedError).extensions?.code);
  }
}

/** Waits `ms` (for letting in-flight events land before checking that none did). */
export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
