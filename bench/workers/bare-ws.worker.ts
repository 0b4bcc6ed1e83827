import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { messageText } from '../lib/ws-text';
import { sleep, wallNow } from '../lib/stats';
import { serveTasks } from '../lib/worker-host';

/**
 * The bare `ws` baseline of the fan-out and connections scenarios: a WebSocket server that
 * acknowledges `connection_init` and otherwise only holds its sockets, and that can send one
 * pre-serialized event (serialized once, the same string to every socket) to all of them.
 */

let wss: WebSocketServer | null = null;
const sockets = new Set<WebSocket>();
/** The sockets of each conversation, as their `subscribe` named them (`conversationIds`, else `conversationId`). */
const groups = new Map<string, Set<WebSocket>>();

/** Answer each `subscribe` with one `next` frame (the reconnect storm's "resumed"). */
let replyToSubscribe = false;

function join(socket: WebSocket, data: RawData): void {
  const frame = JSON.parse(messageText(data)) as {
    id?: string;
    type?: string;
    payload?: { conversationId?: string | null; conversationIds?: string[] };
  };
  if (frame.type !== 'subscribe') return;
  if (replyToSubscribe)
    socket.send(JSON.stringify({ id: frame.id, type: 'next', payload: { data: { messageAdded: null } } }));
  const ids = frame.payload?.conversationIds ?? (frame.payload?.conversationId ? [frame.payload.conversationId] : []);
  for (const id of ids) {
    let set = groups.get(id);
    if (!set) groups.set(id, (set = new Set()));
    set.add(socket);
  }
  socket.once('close', () => {
    for (const id of ids) groups.get(id)?.delete(socket);
  });
}

export const handlers = {
  /**
   * Listens on a free port of 127.0.0.1.
   * @param p.replyToSubscribe - answer each `subscribe` with one `next` frame.
   */
  async listen(p?: { replyToSubscribe?: boolean }): Promise<{ port: number }> {
    replyToSubscribe = p?.replyToSubscribe ?? false;
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 1024 });
    await new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
    wss.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('message', () => {
        socket.send('{"type":"connection_ack"}');
        socket.once('message', (data) => join(socket, data));
      });
      socket.once('close', () => sockets.delete(socket));
    });
    return { port: (wss.address() as { port: number }).port };
  },

  /**
   * At wall time `atWall`, sends `count` events to every socket: event k is `sample` with seq
   * `firstSeq + k` in a graphql-ws `next` frame, serialized once. Its body carries `atWall`.
   * @returns when sending started and ended (wall ms) and to how many sockets.
   */
  async broadcast(p: {
    atWall: number;
    count: number;
    firstSeq: number;
    sample: Record<string, unknown>;
  }): Promise<{ start: number; end: number; sockets: number }> {
    const wait = p.atWall - wallNow();
    if (wait > 2) await sleep(wait - 2);
    while (wallNow() < p.atWall) {
      // spin the last ms for a precise start
    }
    const start = wallNow();
    for (let k = 0; k < p.count; k++) {
      const frame = JSON.stringify({
        id: '1',
        type: 'next',
        payload: { data: { messageAdded: { ...p.sample, seq: p.firstSeq + k, body: `m:${p.atWall}` } } },
      });
      for (const socket of sockets) socket.send(frame);
    }
    return { start, end: wallNow(), sockets: sockets.size };
  },

  /**
   * At wall time `atWall`, sends one event to each conversation's sockets: `sample` with that
   * conversation and `seq`, serialized once per conversation. @returns when sending ended (wall ms)
   * and how many frames went out.
   */
  async broadcastGroups(p: {
    atWall: number;
    seq: number;
    conversationIds: string[];
    sample: Record<string, unknown>;
  }): Promise<{ end: number; frames: number }> {
    const wait = p.atWall - wallNow();
    if (wait > 0) await sleep(wait);
    let frames = 0;
    for (const conversationId of p.conversationIds) {
      const members = groups.get(conversationId);
      if (!members?.size) continue;
      const frame = JSON.stringify({
        id: '1',
        type: 'next',
        payload: { data: { messageAdded: { ...p.sample, conversationId, seq: p.seq, body: `m:${p.atWall}` } } },
      });
      for (const socket of members) socket.send(frame);
      frames += members.size;
    }
    return { end: wallNow(), frames };
  },

  /** This process's memory after a full GC when started with `--expose-gc` (the baseline of the connections scenario). */
  memory(): NodeJS.MemoryUsage {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    return process.memoryUsage();
  },

  count(): number {
    return sockets.size;
  },

  /** Closes every socket and the server. */
  async close(): Promise<void> {
    for (const socket of sockets) socket.terminate();
    sockets.clear();
    groups.clear();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    wss = null;
  },
};

serveTasks(handlers);
