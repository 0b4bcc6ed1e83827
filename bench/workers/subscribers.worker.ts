import type { Client } from 'graphql-ws';
import type WebSocket from 'ws';
import { MessageAddedDocument } from '../../src/client/generated';
import { mapLimit, querySource } from '../lib/graphql';
import { sleep, summarize, wallNow, type LatencySummary } from '../lib/stats';
import { serveTasks } from '../lib/worker-host';
import { connectGraphqlWs, connectRaw } from '../lib/ws-clients';
import { messageText } from '../lib/ws-text';

/**
 * Receivers: many sockets each holding one `messageAdded` subscription, either real graphql-ws
 * clients on Parley or bare `ws` sockets on a baseline server (which sends frames of the same
 * graphql-ws `next` shape). Each event's latency is its arrival minus the send time written in
 * its body; events are also tallied per (conversation, seq) for the fan-out's "time until the
 * last subscriber has it".
 */

/** One receiver: its token and the conversation it subscribes to (null: all of the user's). */
export interface ReceiverSpec {
  token: string;
  conversationId: string | null;
  /** raw mode only: the conversations a baseline server routes to this socket (told in its `subscribe`) */
  conversationIds?: string[];
  /**
   * graphql-ws only: the receiver has `conversationId` open on screen and says so with
   * `setActiveConversation` on its socket, as the web client does (Parley only: the peer has no
   * such mutation). A viewer is not notified of what it sees arrive.
   */
  viewing?: boolean;
}

/** The fields of a delivered message the receivers read. */
interface Delivered {
  conversationId: string;
  seq: number;
  body: string;
}

interface Receiver {
  conversationId: string | null;
  probed: boolean;
  lastSeq: Map<string, number>;
  close: () => void;
}

/** Arrivals of one message over this process's receivers. */
export interface SeqTally {
  seq: number;
  count: number;
  /** wall ms of the first and last arrival */
  first: number;
  last: number;
}

const receivers: Receiver[] = [];
let latencies: number[] = [];
const tallies = new Map<string, SeqTally>();
let received = 0;
/** wall ms of the first and last arrival since the last reset */
let firstArrival = Number.NaN;
let lastArrival = Number.NaN;
let outOfOrder = 0;
let errors: string[] = [];
let sample: Record<string, unknown> | null = null;
const subscriptionQuery = querySource(MessageAddedDocument);

function onEvent(receiver: Receiver, message: Delivered & Record<string, unknown>): void {
  const arrival = wallNow();
  const sentAt = Number(message.body.slice(2));
  if (message.body.startsWith('p:')) {
    receiver.probed = true;
    return;
  }
  sample = message;
  received++;
  if (received === 1) firstArrival = arrival;
  lastArrival = arrival;
  latencies.push(arrival - sentAt);
  const last = receiver.lastSeq.get(message.conversationId) ?? 0;
  if (message.seq <= last) outOfOrder++;
  receiver.lastSeq.set(message.conversationId, message.seq);
  const key = `${message.conversationId}:${message.seq}`;
  const tally = tallies.get(key);
  if (tally) {
    tally.count++;
    tally.first = Math.min(tally.first, arrival);
    tally.last = Math.max(tally.last, arrival);
  } else {
    tallies.set(key, { seq: message.seq, count: 1, first: arrival, last: arrival });
  }
}

function onError(err: unknown): void {
  if (errors.length < 20) errors.push(String(err instanceof Error ? err.message : JSON.stringify(err)).slice(0, 300));
}

const VIEW = 'mutation View($id: ID) { setActiveConversation(conversationId: $id) { status } }';

async function openGraphqlWs(url: string, spec: ReceiverSpec): Promise<Receiver> {
  const client: Client = await connectGraphqlWs(url, spec.token);
  if (spec.viewing && spec.conversationId) {
    await new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: VIEW, variables: { id: spec.conversationId } },
        {
          next: (r) => (r.errors?.length ? reject(new Error(JSON.stringify(r.errors))) : undefined),
          error: reject,
          complete: resolve,
        },
      ),
    );
  }
  const receiver: Receiver = {
    conversationId: spec.conversationId,
    probed: false,
    lastSeq: new Map(),
    close: () => void client.dispose(),
  };
  client.subscribe<{ messageAdded: Delivered & Record<string, unknown> }>(
    { query: subscriptionQuery, variables: spec.conversationId ? { conversationId: spec.conversationId } : {} },
    {
      next: (result) => {
        if (result.errors?.length) onError(result.errors);
        if (result.data) onEvent(receiver, result.data.messageAdded);
      },
      error: onError,
      complete: () => undefined,
    },
  );
  return receiver;
}

async function openRaw(url: string, spec: ReceiverSpec, index: number): Promise<Receiver> {
  const socket: WebSocket = await connectRaw(url, spec.token);
  const receiver: Receiver = {
    conversationId: spec.conversationId,
    probed: false,
    lastSeq: new Map(),
    close: () => socket.close(),
  };
  socket.on('message', (data) => {
    const frame = JSON.parse(messageText(data)) as {
      type: string;
      payload?: { data?: { messageAdded?: Delivered & Record<string, unknown> } };
    };
    if (frame.type === 'next' && frame.payload?.data?.messageAdded) onEvent(receiver, frame.payload.data.messageAdded);
  });
  socket.on('error', onError);
  socket.send(
    JSON.stringify({
      id: String(index),
      type: 'subscribe',
      payload: { conversationId: spec.conversationId, conversationIds: spec.conversationIds },
    }),
  );
  return receiver;
}

/** The receivers of one conversation (or all, for `null`). */
const on = (conversationId: string | null) =>
  receivers.filter((r) => conversationId === null || r.conversationId === conversationId).length;

export const handlers = {
  /**
   * Opens more receivers, at most `concurrency` handshakes in flight.
   * @returns how many opened, how many failed, and how long it took (ms).
   */
  async open(p: { mode: 'graphql-ws' | 'raw'; url: string; receivers: ReceiverSpec[]; concurrency: number }) {
    const started = performance.now();
    let failed = 0;
    let firstError: string | null = null;
    const base = receivers.length;
    const opened = await mapLimit(p.receivers, p.concurrency, async (spec, i) =>
      (p.mode === 'raw' ? openRaw(p.url, spec, base + i) : openGraphqlWs(p.url, spec)).catch((err: unknown) => {
        failed++;
        firstError ??= String(err instanceof Error ? err.message : err);
        return null;
      }),
    );
    for (const r of opened) if (r) receivers.push(r);
    return {
      opened: opened.length - failed,
      failed,
      firstError,
      elapsedMs: performance.now() - started,
      total: receivers.length,
    };
  },

  /**
   * Waits until every receiver has had a probe message since {@link handlers.resetProbes}.
   * @returns how many have, of how many.
   */
  async allProbed(p: { timeoutMs: number }): Promise<{ probed: number; of: number }> {
    const deadline = performance.now() + p.timeoutMs;
    let probed: number;
    while ((probed = receivers.filter((r) => r.probed).length) < receivers.length && performance.now() < deadline)
      await sleep(10);
    return { probed, of: receivers.length };
  },

  resetProbes(): void {
    for (const r of receivers) r.probed = false;
  },

  /** Forgets what arrived so far (between measured steps). */
  reset(): void {
    latencies = [];
    tallies.clear();
    received = 0;
    firstArrival = Number.NaN;
    lastArrival = Number.NaN;
    outOfOrder = 0;
    errors = [];
  },

  /**
   * Waits until `expected` messages (probes excluded) arrived since the last reset, or the timeout.
   * @returns what arrived, with the latency of each delivery and the wall ms of the first and last arrival.
   */
  async waitTotal(p: { expected: number; timeoutMs: number }): Promise<{
    received: number;
    outOfOrder: number;
    latency: LatencySummary;
    first: number;
    last: number;
    errors: string[];
  }> {
    const deadline = performance.now() + p.timeoutMs;
    while (received < p.expected && performance.now() < deadline) await sleep(5);
    return { received, outOfOrder, latency: summarize(latencies), first: firstArrival, last: lastArrival, errors };
  },

  /**
   * Waits until each of `seqs` of a conversation reached every local receiver of it, or the
   * timeout. @returns the tally of each seq (count 0 when none arrived).
   */
  async waitSeqs(p: {
    conversationId: string;
    seqs: number[];
    timeoutMs: number;
  }): Promise<{ tallies: SeqTally[]; receivers: number; outOfOrder: number; errors: string[] }> {
    const expected = on(p.conversationId);
    const deadline = performance.now() + p.timeoutMs;
    const complete = () => p.seqs.every((seq) => (tallies.get(`${p.conversationId}:${seq}`)?.count ?? 0) >= expected);
    while (!complete() && performance.now() < deadline) await sleep(5);
    return {
      tallies: p.seqs.map(
        (seq) => tallies.get(`${p.conversationId}:${seq}`) ?? { seq, count: 0, first: Number.NaN, last: Number.NaN },
      ),
      receivers: expected,
      outOfOrder,
      errors,
    };
  },

  /** The last message received (a real `messageAdded` payload, to shape the baseline's frames). */
  sample(): Record<string, unknown> | null {
    return sample;
  },

  /** Counts so far. */
  stats(): { receivers: number; received: number; outOfOrder: number; errors: string[] } {
    return { receivers: receivers.length, received, outOfOrder, errors };
  },

  /** Closes every receiver and waits a moment for the closes to go out. */
  async closeAll(): Promise<void> {
    for (const r of receivers.splice(0)) r.close();
    await sleep(200);
  },
};

serveTasks(handlers);
