import type { ExecutionResult } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  MessagesDocument,
  SendMessageDocument,
  type MessagesQueryVariables,
  type SendMessageMutation,
} from '../../src/client/generated';
import { HttpLoadClient, mapLimit, querySource, type GraphQLBody } from '../lib/graphql';
import { connectGraphqlWs, connectRaw } from '../lib/ws-clients';
import { messageText } from '../lib/ws-text';
import { closedLoop, openLoop } from '../lib/load';
import { wallNow } from '../lib/stats';
import { serveTasks } from '../lib/worker-host';

/**
 * Load generator for the operations clients send: `sendMessage` over HTTP ({@link HttpLoadClient}) or over
 * WebSocket (graphql-ws), or the same send to the bare relay baseline (`raw`), closed- or
 * open-loop; and `messages` history queries over HTTP.
 *
 * Message bodies carry the wall-clock time they were meant to be sent (`m:<ms>`, or `p:<ms>` for
 * readiness probes), which receivers subtract from their arrival time.
 */

/** How sends travel. */
export type SendTransport = 'http' | 'ws' | 'raw';

/** One sending user and the conversation it sends to. */
export interface SenderSpec {
  token: string;
  senderId: string;
  conversationId: string;
}

interface Sender extends SenderSpec {
  client: Client | null;
  raw: RawConnection | null;
}

/** A socket to the bare relay: JSON requests `{id, ...}`, answers `{id, seq}`. */
class RawConnection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (seq: number) => void; reject: (e: Error) => void }>();
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const reply = JSON.parse(messageText(data)) as { id: number; seq?: number; error?: string };
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (reply.error || reply.seq === undefined) call.reject(new Error(reply.error ?? 'no seq'));
      else call.resolve(reply.seq);
    });
    socket.on('close', () => {
      for (const call of this.pending.values()) call.reject(new Error('relay socket closed'));
      this.pending.clear();
    });
  }

  static async open(url: string, token: string): Promise<RawConnection> {
    return new RawConnection(await connectRaw(url, token));
  }

  send(request: Record<string, unknown>): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...request, id }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

let transport: SendTransport = 'http';
/** The HTTP client of the `http` transport (one keep-alive agent for every sender). */
let http: HttpLoadClient | null = null;
let senders: Sender[] = [];
const sendQuery = querySource(SendMessageDocument);

/** Executes a single-result operation (a mutation) over graphql-ws. */
function execute<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<ExecutionResult<T>> {
  return new Promise((resolve, reject) => {
    let result: ExecutionResult<T> | null = null;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value as ExecutionResult<T>),
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => (result ? resolve(result) : reject(new Error('completed without a result'))),
      },
    );
  });
}

/** Sends one message; resolves with its seq. */
async function send(sender: Sender, body: string): Promise<number> {
  if (transport === 'raw')
    return sender.raw!.send({ conversationId: sender.conversationId, senderId: sender.senderId, body });
  const variables = { input: { conversationId: sender.conversationId, body } };
  let result: GraphQLBody<SendMessageMutation>;
  if (transport === 'ws') {
    result = (await execute<SendMessageMutation>(
      sender.client!,
      sendQuery,
      variables,
    )) as GraphQLBody<SendMessageMutation>;
  } else {
    result = await http!.post<SendMessageMutation>(JSON.stringify({ query: sendQuery, variables }), sender.token);
  }
  if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.sendMessage.seq;
}

async function closeSenders(): Promise<void> {
  for (const s of senders) {
    await s.client?.dispose();
    s.raw?.close();
  }
  senders = [];
  http?.close();
  http = null;
}

export const handlers = {
  /** Prepares the senders: sockets are opened (and acknowledged) for `ws` and `raw`. */
  async connect(p: {
    transport: SendTransport;
    httpUrl: string;
    wsUrl: string;
    senders: SenderSpec[];
  }): Promise<{ senders: number }> {
    await closeSenders();
    transport = p.transport;
    http = p.transport === 'http' ? new HttpLoadClient(p.httpUrl) : null;
    senders = await Promise.all(
      p.senders.map(async (spec) => ({
        ...spec,
        client: p.transport === 'ws' ? await connectGraphqlWs(p.wsUrl, spec.token) : null,
        raw: p.transport === 'raw' ? await RawConnection.open(p.wsUrl, spec.token) : null,
      })),
    );
    return { senders: senders.length };
  },

  /** Closed-loop sends: lane i sends as sender i (mod the number of senders). */
  closedLoop(p: { concurrency: number; warmupMs: number; durationMs: number }) {
    return closedLoop(p, async (lane) => {
      await send(senders[lane % senders.length], `m:${wallNow()}`);
    });
  },

  /** Open-loop sends at `rate` per second, round-robin over the senders. */
  openLoop(p: { rate: number; durationMs: number }) {
    return openLoop(p, async (k, intended) => {
      await send(senders[k % senders.length], `m:${intended}`);
    });
  },

  /** One probe message from every sender (readiness of the receivers). */
  async sendEach(): Promise<{ ok: number }> {
    const seqs = await Promise.all(senders.map((s) => send(s, `p:${wallNow()}`).catch(() => null)));
    return { ok: seqs.filter((s) => s !== null).length };
  },

  /**
   * `count` messages from the first sender, at most `concurrency` in flight, as fast as they are
   * accepted. @returns when each was sent (wall ms) and its seq.
   */
  async burst(p: {
    count: number;
    concurrency: number;
  }): Promise<{ sends: Array<{ seq: number; sentAt: number }>; errors: number; firstError: string | null }> {
    const sends: Array<{ seq: number; sentAt: number }> = [];
    let errors = 0;
    let firstError: string | null = null;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(p.concurrency, p.count) }, async () => {
        while (next < p.count) {
          next++;
          const sentAt = wallNow();
          try {
            sends.push({ seq: await send(senders[0], `m:${sentAt}`), sentAt });
          } catch (err) {
            errors++;
            firstError ??= String(err).slice(0, 500);
          }
        }
      }),
    );
    return { sends, errors, firstError };
  },

  /**
   * One message from every sender (a round of the small-groups scenario), at most `concurrency` in
   * flight. @returns each send's conversation, seq and wall time.
   */
  async round(p: { concurrency: number }): Promise<{
    sends: Array<{ conversationId: string; seq: number; sentAt: number }>;
    errors: number;
    firstError: string | null;
  }> {
    const sends: Array<{ conversationId: string; seq: number; sentAt: number }> = [];
    let errors = 0;
    let firstError: string | null = null;
    await mapLimit(senders, p.concurrency, async (sender) => {
      const sentAt = wallNow();
      try {
        sends.push({ conversationId: sender.conversationId, seq: await send(sender, `m:${sentAt}`), sentAt });
      } catch (err) {
        errors++;
        firstError ??= String(err).slice(0, 500);
      }
    });
    return { sends, errors, firstError };
  },

  /**
   * Closed-loop `messages` queries over HTTP with fixed variables; or, with `body`, that body
   * POSTed as it is (to the bare page server of the history baseline).
   */
  async queryLoop(p: {
    url: string;
    token: string;
    variables: MessagesQueryVariables;
    body?: string;
    concurrency: number;
    warmupMs: number;
    durationMs: number;
  }) {
    const body = p.body ?? JSON.stringify({ query: querySource(MessagesDocument), variables: p.variables });
    const client = new HttpLoadClient(p.url);
    try {
      return await closedLoop(p, async () => {
        const result = await client.post(body, p.token);
        if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
      });
    } finally {
      client.close();
    }
  },

  async close(): Promise<void> {
    await closeSenders();
  },
};

serveTasks(handlers);
