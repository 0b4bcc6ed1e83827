import DataLoader from 'dataloader';
import type { Container } from './container';
import { closeBatchAfter } from './turn-batcher';

/**
 * Whether loaders cache rows. HTTP requests cache for the request; on WebSockets, where
 * graphql-ws builds the context once per subscription rather than per event, loaders only batch
 * (`cache: false`, as Spectrum did), so a long-lived subscription never serves stale rows.
 */
export interface LoaderOptions {
  cache: boolean;
}

/**
 * A DataLoader that batches keys into one `fetch` and puts each row back in key order
 * (missing keys give `null`).
 *
 * @param fetch - loads the rows of many keys at once (one SQL query).
 * @param keyOf - the key of a fetched row.
 */
export function keyedLoader<K, V>(
  fetch: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
  options: LoaderOptions,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(
    async (keys) => {
      const rows = await fetch(keys);
      const byKey = new Map(rows.map((row) => [keyOf(row), row]));
      return keys.map((k) => byKey.get(k) ?? null);
    },
    { cache: options.cache },
  );
}

/** Like {@link keyedLoader}, for one-to-many: each key gets the array of its rows (possibly empty). */
export function groupedLoader<K, V>(
  fetch: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
  options: LoaderOptions,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(
    async (keys) => {
      const groups = new Map<K, V[]>(keys.map((k) => [k, []]));
      for (const row of await fetch(keys)) groups.get(keyOf(row))?.push(row);
      return keys.map((k) => groups.get(k) ?? []);
    },
    { cache: options.cache },
  );
}

/** What a loader factory may use: the services of this server (the container). */
export interface LoaderDeps {
  container: Container;
}

/** A named DataLoader factory, declared by the module that owns the rows (see {@link defineLoader}). */
export interface LoaderKey<T> {
  readonly name: string;
  readonly create: (deps: LoaderDeps, options: LoaderOptions) => T;
}

/**
 * Declares a DataLoader factory; `ctx.loaders.get(key)` builds it on first use in a request.
 * @param name - for debugging; keys are told apart by identity.
 */
export const defineLoader = <T>(
  name: string,
  create: (deps: LoaderDeps, options: LoaderOptions) => T,
): LoaderKey<T> => ({ name, create });

/**
 * The DataLoaders of one request (HTTP, caching) or one operation (WebSocket, batching only),
 * each built on first use: an idle subscription holds a context for hours and most operations
 * touch one or two loaders.
 */
export class LoaderSet {
  private readonly built = new Map<LoaderKey<unknown>, unknown>();

  constructor(
    private readonly deps: LoaderDeps,
    private readonly options: LoaderOptions,
  ) {}

  /** The loader of `key` for this request, built on first use. */
  get<T>(key: LoaderKey<T>): T {
    let loader = this.built.get(key) as T | undefined;
    if (loader === undefined) this.built.set(key, (loader = key.create(this.deps, this.options)));
    return loader;
  }
}

/**
 * A DataLoader held by a service for all callers (not one per request) that gathers the loads of
 * one event-loop turn into one `batch` call, each caller getting its own answer: the
 * subscriptions a reconnect storm sets up in one turn read their positions in one statement, and
 * the rate-limit points of one turn go to Redis in one script call. Writes that answer nothing
 * per item use `TurnBatcher` (src/shared/turn-batcher.ts; the sends of one turn share a notification job). No cache:
 * every load reads afresh, only later by a turn.
 *
 * @param batch - answers every key, in order (DataLoader's contract); an `Error` fails that key.
 * @param maxBatchSize - most keys per call (bounds one statement's parameters).
 * @param lingerMs - how long a batch stays open after its first key, ms; 0 (the default) closes it
 *   at the end of the turn ({@link setUpLoader} for the steps of a socket's set-up).
 */
export function turnBatchedLoader<K, V>(
  batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>,
  maxBatchSize = 1000,
  lingerMs = 0,
): DataLoader<K, V> {
  return new DataLoader<K, V>(batch, {
    cache: false,
    maxBatchSize,
    batchScheduleFn: (run) => closeBatchAfter(lingerMs, run),
  });
}

/** A {@link turnBatchedLoader} for a step of a WebSocket's set-up: its batch stays open {@link SET_UP_LINGER_MS}. */
export function setUpLoader<K, V>(batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V> {
  return turnBatchedLoader(batch, undefined, SET_UP_LINGER_MS);
}

/**
 * The batching window of a WebSocket's set-up steps (session lookup, connection caps, positions,
 * last seqs, presence), ms. Sockets arrive one per read, so a turn rarely holds more than one or two
 * of them, and each batch is a write system call to PostgreSQL or Redis: the writes were the
 * largest part of the instance's CPU while sockets connect by the hundred (a reconnect storm).
 * A few ms per step is nothing to a client that is connecting; Kafka's producer calls it `linger.ms`.
 */
export const SET_UP_LINGER_MS = 5;
