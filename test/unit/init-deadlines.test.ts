import { once } from 'node:events';
import { CloseCode } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { InitDeadlines } from '../../src/ws/init-deadlines';
import { elapse } from '../support/wait';

describe('InitDeadlines', () => {
  let wss: WebSocketServer;
  let deadlines: InitDeadlines<WebSocket>;
  /** The server side of each client, in connection order. */
  let accepted: WebSocket[];

  beforeEach(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    deadlines = new InitDeadlines(150);
    accepted = [];
    wss.on('connection', (socket) => {
      accepted.push(socket);
      deadlines.add(socket);
    });
  });

  afterEach(async () => {
    deadlines.stop();
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  /** A client, once the server has added its socket; `closed` resolves with the close code and when it came. */
  const connect = async () => {
    const before = accepted.length;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
      client.once('close', (code, reason) => resolve({ code, reason: String(reason), at: performance.now() })),
    );
    await once(client, 'open');
    while (accepted.length === before) await new Promise((resolve) => setImmediate(resolve));
    return { client, server: accepted[before], closed, openedAt: performance.now() };
  };

  it('closes each socket with 4408 once its own wait is over, and spares one whose wait ended', async () => {
    const first = await connect();
    await elapse(60); // the passage of time is what is tested: two sockets with different deadlines
    const second = await connect();
    const initialised = await connect();
    deadlines.delete(initialised.server);

    const [a, b] = await Promise.all([first.closed, second.closed]);
    for (const closed of [a, b]) {
      expect(closed.code).toBe(CloseCode.ConnectionInitialisationTimeout);
      expect(closed.reason).toBe('Connection initialisation timeout');
    }
    // Each at its own deadline (150 ms after it opened), not both at the first one's.
    expect(a.at - first.openedAt).toBeGreaterThanOrEqual(140);
    expect(b.at - second.openedAt).toBeGreaterThanOrEqual(140);
    expect(b.at - a.at).toBeGreaterThanOrEqual(40);
    // The socket whose connection_init arrived outlives a third deadline: another socket's, opened after it.
    const later = await connect();
    expect((await later.closed).code).toBe(CloseCode.ConnectionInitialisationTimeout);
    expect(initialised.client.readyState).toBe(WebSocket.OPEN);
    expect(deadlines.size).toBe(0);
  });
});
