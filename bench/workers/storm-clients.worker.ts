import type { Client } from 'graphql-ws';
import type WebSocket from 'ws';
import { MessageAddedDocument } from '../../src/client/generated';
import { mapLimit, querySource } from '../lib/graphql';
import { sleep, wallNow } from '../lib/stats';
import { serveTasks } from '../lib/worker-host';
import { connectGraphqlWs, connectRaw } from '../lib/ws-clients';

/**
 * The clients of the reconnect storm: each holds one socket with one `messageAdded` subscription
 * over its conversations, remembers every seq it received per conversation, and when its socket
 * closes reconnects to the failover URL and subscribes again with `after` positions (its last seq
 * of each conversation), as the contract tells a client to resume. Raw mode does the same against a
 * bare `ws` server (connection_init, then a subscribe frame), where "resumed" is the first frame
 * after the subscribe.
 */

/** One client: its token and the conversations it follows. */
export interface StormSpec {
  token: string;
  conversationIds: string[];
}

interface StormClient extends StormSpec {
  /** seqs received, per conversation, in arrival order */
  seqs: Map<string, number[]>;
  close: () => void;
  /** whether the current socket is the failover one */
  failedOver: boolean;
  /** wall ms when the failover socket was acknowledged, and when the client had caught up */
  reconnectedAt: number;
  resumedAt: number;
}

const subscriptionQuery = querySource(MessageAddedDocument);
let mode: 'graphql-ws' | 'raw' = 'graphql-ws';
const clients: StormClient[] = [];
let failoverUrl: string | null = null;
let targets = new Map<string, number>();
let errors: string[] = [];

/** At most `limit` failover handshakes in flight (a semaphore). */
let limit = 256;
let inFlight = 0;
const waiting: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  while (inFlight >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  try {
    return await fn();
  } finally {
    inFlight--;
    waiting.shift()?.();
  }
}

function onError(err: unknown): void {
  if (errors.length < 20) errors.push(String(err instanceof Error ? err.message : JSON.stringify(err)).slice(0, 300));
}

const lastSeq = (c: StormClient, conversationId: string) => {
  const list = c.seqs.get(conversationId);
  return list?.length ? list[list.length - 1] : 0;
};

const caughtUp = (c: StormClient) => c.conversationIds.every((id) => lastSeq(c, id) >= (targets.get(id) ?? 0));

function onMessage(c: StormClient, message: { conversationId: string; seq: number }): void {
  let list = c.seqs.get(message.conversationId);
  if (!list) c.seqs.set(message.conversationId, (list = []));
  list.push(message.seq);
  if (c.failedOver && Number.isNaN(c.resumedAt) && caughtUp(c)) c.resumedAt = wallNow();
}

/** Opens (or reopens, after a failover) the client's socket and subscribes from its positions. */
async function connect(c: StormClient, url: string): Promise<void> {
  const after = c.conversationIds.map((conversationId) => ({ conversationId, seq: lastSeq(c, conversationId) }));
  if (mode === 'raw') {
    const socket: WebSocket = await connectRaw(url, c.token);
    if (c.failedOver) c.reconnectedAt = wallNow();
    c.close = () => socket.close();
    socket.on('message', () => {
      if (c.failedOver && Number.isNaN(c.resumedAt)) c.resumedAt = wallNow();
    });
    socket.on('error', onError);
    socket.once('close', () => void failover(c));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { after } }));
    return;
  }
  const client: Client = await connectGraphqlWs(url, c.token);
  if (c.failedOver) c.reconnectedAt = wallNow();
  c.close = () => void client.dispose();
  client.on('closed', () => void failover(c));
  client.subscribe<{ messageAdded: { conversationId: string; seq: number } }>(
    { query: subscriptionQuery, variables: { after } },
    {
      next: (result) => {
        if (result.errors?.length) onError(result.errors);
        if (result.data) onMessage(c, result.data.messageAdded);
      },
      // a close is handled by the failover; anything else is an error of the server
      error: (err) => {
        if (!(err && typeof err === 'object' && 'code' in err)) onError(err);
      },
      complete: () => undefined,
    },
  );
}

/** The first close of the original socket moves the client to the failover URL (once). */
async function failover(c: StormClient): Promise<void> {
  if (c.failedOver || !failoverUrl) return;
  c.failedOver = true;
  const url = failoverUrl;
  for (let attempt = 1; ; attempt++) {
    try {
      await slot(() => connect(c, url));
      if (caughtUp(c) && mode === 'graphql-ws' && Number.isNaN(c.resumedAt)) c.resumedAt = wallNow();
      return;
    } catch (err) {
      if (attempt >= 5) return onError(err);
      await sleep(100 * attempt);
    }
  }
}

export const handlers = {
  /** Opens the clients, at most `concurrency` handshakes in flight; each subscribes from seq 0. */
  async open(p: { mode: 'graphql-ws' | 'raw'; url: string; clients: StormSpec[]; concurrency: number }) {
    mode = p.mode;
    const started = performance.now();
    let failed = 0;
    let firstError: string | null = null;
    await mapLimit(p.clients, p.concurrency, async (spec) => {
      const c: StormClient = {
        ...spec,
        seqs: new Map(),
        close: () => undefined,
        failedOver: false,
        reconnectedAt: Number.NaN,
        resumedAt: Number.NaN,
      };
      try {
        await connect(c, p.url);
        clients.push(c);
      } catch (err) {
        failed++;
        firstError ??= String(err instanceof Error ? err.message : err);
      }
    });
    return { opened: clients.length, failed, firstError, elapsedMs: performance.now() - started };
  },

  /**
   * Where clients go when their socket closes, how many handshakes at once, and the seq each
   * conversation must reach for a client to count as resumed.
   */
  prepareFailover(p: { url: string; concurrency: number; targets: Record<string, number> }): void {
    failoverUrl = p.url;
    limit = p.concurrency;
    targets = new Map(Object.entries(p.targets));
  },

  /**
   * Waits until every client has each conversation's seq of `targets` (graphql-ws, before the
   * failover: every subscription is live), or the timeout. @returns how many have.
   */
  async waitCaughtUp(p: { targets: Record<string, number>; timeoutMs: number }) {
    targets = new Map(Object.entries(p.targets));
    const deadline = performance.now() + p.timeoutMs;
    const done = () => clients.filter(caughtUp).length;
    while (done() < clients.length && performance.now() < deadline) await sleep(20);
    return { done: done(), of: clients.length, errors };
  },

  /**
   * Waits until every client has reconnected and resumed, or the timeout.
   * @returns counts and the wall ms of the last reconnect and the last resume.
   */
  async waitResumed(p: { timeoutMs: number }) {
    const deadline = performance.now() + p.timeoutMs;
    const resumed = () => clients.filter((c) => !Number.isNaN(c.resumedAt)).length;
    while (resumed() < clients.length && performance.now() < deadline) await sleep(10);
    const max = (values: number[]) => {
      const seen = values.filter((v) => !Number.isNaN(v));
      return seen.length ? Math.max(...seen) : Number.NaN;
    };
    return {
      clients: clients.length,
      reconnected: clients.filter((c) => !Number.isNaN(c.reconnectedAt)).length,
      resumed: resumed(),
      lastReconnectedAt: max(clients.map((c) => c.reconnectedAt)),
      lastResumedAt: max(clients.map((c) => c.resumedAt)),
      errors,
    };
  },

  /**
   * Checks every client against the final seq of each conversation: it must hold exactly 1..final,
   * in order. @returns the clients with a gap, with a duplicate, out of order, and the totals.
   */
  verify(p: { finals: Record<string, number> }) {
    let withGaps = 0;
    let withDuplicates = 0;
    let withDisorder = 0;
    let missing = 0;
    let duplicates = 0;
    for (const c of clients) {
      let gap = false;
      let dup = false;
      let disorder = false;
      for (const id of c.conversationIds) {
        const list = c.seqs.get(id) ?? [];
        const seen = new Set<number>();
        for (let i = 0; i < list.length; i++) {
          if (seen.has(list[i])) {
            dup = true;
            duplicates++;
          }
          seen.add(list[i]);
          if (i > 0 && list[i] <= list[i - 1]) disorder = true;
        }
        for (let seq = 1; seq <= (p.finals[id] ?? 0); seq++) {
          if (!seen.has(seq)) {
            gap = true;
            missing++;
          }
        }
      }
      if (gap) withGaps++;
      if (dup) withDuplicates++;
      if (disorder) withDisorder++;
    }
    return { clients: clients.length, withGaps, withDuplicates, withDisorder, missing, duplicates };
  },

  /** Closes every client and forgets them. */
  async closeAll(): Promise<void> {
    failoverUrl = null;
    for (const c of clients.splice(0)) c.close();
    errors = [];
    await sleep(200);
  },
};

serveTasks(handlers);
