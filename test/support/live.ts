import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import type { StreamKind, StreamObserver } from '../../src/shared/live-stream';
import { connected, Subscription } from './clients';
import type { Instance } from './server';
import { eventually } from './wait';

/**
 * "Subscribe until live". graphql-ws has no "subscribed" acknowledgement: a subscribe message is
 * answered by the first event, so a test that publishes right after subscribing could publish
 * before the server has subscribed its topics, and the event would be lost. A test therefore
 * waits until the server says it has set the stream up.
 */

/** The subscriptions whose set-up a test waits for. */
export type LiveKind = 'messageAdded' | 'presenceChanged' | 'typing' | 'readReceipt' | 'notificationAdded';

/** Counts, from when it was made, the streams of one kind an instance has set up and ended. */
export interface StreamTracker {
  /**
   * Resolves once `count` streams have been set up since the tracker was made (or as soon as
   * `abandon()` holds: the subscription failed or completed, and no stream will come).
   */
  ready(count: number, abandon?: () => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` streams have ended since the tracker was made. */
  ended(count: number, timeoutMs?: number): Promise<void>;
}

/**
 * Every stream an in-process instance set up and ended, by kind: the server's own
 * {@link StreamObserver} hook (`startServer(config, { observer })`), given by TestCluster.start.
 */
export class StreamLog implements StreamObserver {
  readonly readyCount = new Map<StreamKind, number>();
  readonly endedCount = new Map<StreamKind, number>();
  ready(kind: StreamKind): void {
    this.readyCount.set(kind, (this.readyCount.get(kind) ?? 0) + 1);
  }
  ended(kind: StreamKind): void {
    this.endedCount.set(kind, (this.endedCount.get(kind) ?? 0) + 1);
  }
}

const logs = new WeakMap<object, StreamLog>();

/** Ties an in-process instance to the {@link StreamLog} it was started with. */
export function registerStreamLog(server: object, log: StreamLog): void {
  logs.set(server, log);
}

/** The `kind` label of `parley_state_streams`. */
const stateLabel = {
  presenceChanged: 'presence',
  typing: 'typing',
  readReceipt: 'readReceipt',
  notificationAdded: 'notification',
} as const;

/**
 * The one place that knows how a test learns that a stream is live or has ended. Make the
 * tracker, then subscribe (or unsubscribe), then wait on it.
 *
 * An instance in this process is watched through its stream observer (every set-up and end is
 * counted). A child process can only be read from GET /metrics: messageAdded on
 * `parley_message_streams_started_total` and `parley_message_streams`, the other kinds on the
 * `parley_state_streams{kind}` gauge, where a stream ending while another is set up hides both.
 */
export async function trackStreams(server: Instance, kind: LiveKind): Promise<StreamTracker> {
  const log = logs.get(server);
  /** Streams of `kind` set up and ended so far (for a state kind from metrics: the gauge, and its negation). */
  const read = async (): Promise<{ ready: number; ended: number }> => {
    if (log) return { ready: log.readyCount.get(kind) ?? 0, ended: log.endedCount.get(kind) ?? 0 };
    if (kind === 'messageAdded') {
      const started = await sample(server, 'parley_message_streams_started_total');
      return { ready: started, ended: started - (await sample(server, 'parley_message_streams')) };
    }
    const live = await sample(server, 'parley_state_streams', stateLabel[kind]);
    return { ready: live, ended: -live };
  };
  const base = await read();
  const wait = async (what: 'ready' | 'ended', count: number, abandon: () => boolean, timeoutMs: number) => {
    const done = async () => abandon() || (await read())[what] - base[what] >= count;
    await eventually(done, timeoutMs, `${count} ${kind} stream(s) ${what === 'ready' ? 'set up' : 'ended'}`, 5);
  };
  return {
    ready: (count, abandon = () => false, timeoutMs = 10_000) => wait('ready', count, abandon, timeoutMs),
    ended: (count, timeoutMs = 10_000) => wait('ended', count, () => false, timeoutMs),
  };
}

/** A metric's value on `server` (0 when absent): from its registry in this process, else from GET /metrics. */
async function sample(server: Instance, name: string, kindLabel?: string): Promise<number> {
  if (server.metrics) {
    const metric = server.metrics.registry.getSingleMetric(name);
    if (!metric) throw new Error(`no metric ${name}`);
    const { values } = await metric.get();
    return values.find((v) => kindLabel === undefined || v.labels.kind === kindLabel)?.value ?? 0;
  }
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  const series = kindLabel === undefined ? name : `${name}{kind="${kindLabel}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * Subscribes and waits until the server has set the stream up (or the subscription failed or
 * completed), so that an event published from now on must be delivered.
 * @param subscriber - a graphql-ws client, or a user: then a socket of the user's own is opened
 *   (and acknowledged) for the subscription, and closed when the subscription is disposed.
 */
export async function subscribeLive<T, V extends Record<string, unknown>>(
  server: Instance,
  subscriber: Client | { token: string },
  kind: LiveKind,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<Subscription<T>> {
  const client = 'token' in subscriber ? await connected(server, subscriber) : subscriber;
  const streams = await trackStreams(server, kind);
  const sub = new Subscription(client, document, variables);
  if (client !== subscriber) sub.owns(client);
  try {
    await streams.ready(1, () => sub.errors.length > 0 || sub.completed);
  } catch (err) {
    await sub.dispose();
    throw err;
  }
  return sub;
}
