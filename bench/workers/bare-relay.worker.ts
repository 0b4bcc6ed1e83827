import Redis from 'ioredis';
import { Pool } from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import { BASELINE_INSERT_MESSAGE } from '../lib/sql';
import { serveTasks } from '../lib/worker-host';
import { messageText } from '../lib/ws-text';

/**
 * The raw baseline of the end-to-end scenario: the same path as Parley's without GraphQL or an
 * ORM. An `ingress` server takes a send over a WebSocket, runs the same statement through
 * node-postgres, publishes one pre-serialized graphql-ws `next` frame on Redis and answers with
 * the seq; an `egress` server subscribes to the conversations its sockets asked for and forwards
 * each frame, untouched, to those sockets.
 */

let wss: WebSocketServer | null = null;
let pool: Pool | null = null;
const redisConnections: Redis[] = [];

async function listen(onSocket: (socket: WebSocket) => void): Promise<number> {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 1024 });
  await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    // connection_init: acknowledged, the token is not checked (the baseline does no auth).
    socket.once('message', () => {
      socket.send('{"type":"connection_ack"}');
      onSocket(socket);
    });
  });
  return (wss.address() as { port: number }).port;
}

/** A send from the load generator's raw transport. */
interface SendRequest {
  id: number;
  conversationId: string;
  senderId: string;
  body: string;
}

export const handlers = {
  /** Starts the ingress side; `channelPrefix` + conversation id is the Redis channel. */
  async ingress(p: {
    databaseUrl: string;
    poolSize: number;
    redisUrl: string;
    channelPrefix: string;
  }): Promise<{ port: number }> {
    pool = new Pool({ connectionString: p.databaseUrl, max: p.poolSize });
    const publisher = new Redis(p.redisUrl);
    redisConnections.push(publisher);
    /** Inserts a send, publishes its frame; resolves to its seq. */
    const relay = async (request: SendRequest): Promise<number> => {
      const { rows } = await pool!.query(BASELINE_INSERT_MESSAGE, [
        request.conversationId,
        request.senderId,
        request.body,
        null,
      ]);
      const row = rows[0] as Record<string, unknown> & { seq: number; createdAt: Date };
      const frame = JSON.stringify({
        id: '1',
        type: 'next',
        payload: { data: { messageAdded: { ...row, createdAt: row.createdAt.toISOString() } } },
      });
      await publisher.publish(p.channelPrefix + request.conversationId, frame);
      return row.seq;
    };
    const port = await listen((socket) => {
      socket.on('message', (data) => {
        const request = JSON.parse(messageText(data)) as SendRequest;
        relay(request)
          .then((seq) => socket.send(JSON.stringify({ id: request.id, seq })))
          .catch((err: unknown) => socket.send(JSON.stringify({ id: request.id, error: String(err) })));
      });
    });
    return { port };
  },

  /** Starts the egress side: sockets send `{type: 'subscribe', payload: {conversationId}}`. */
  async egress(p: { redisUrl: string; channelPrefix: string }): Promise<{ port: number }> {
    const subscriber = new Redis(p.redisUrl);
    redisConnections.push(subscriber);
    const byChannel = new Map<string, Set<WebSocket>>();
    subscriber.on('message', (channel: string, frame: string) => {
      for (const socket of byChannel.get(channel) ?? []) socket.send(frame);
    });
    const port = await listen((socket) => {
      socket.once('message', (data) => {
        const { payload } = JSON.parse(messageText(data)) as { payload: { conversationId: string } };
        const channel = p.channelPrefix + payload.conversationId;
        let set = byChannel.get(channel);
        if (!set) {
          byChannel.set(channel, (set = new Set()));
          void subscriber.subscribe(channel);
        }
        set.add(socket);
        socket.once('close', () => set.delete(socket));
      });
    });
    return { port };
  },

  async close(): Promise<void> {
    for (const client of wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await pool?.end();
    for (const r of redisConnections.splice(0)) r.disconnect();
  },
};

serveTasks(handlers);
