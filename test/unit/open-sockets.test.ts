import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { OpenSockets, SWEEP_SLICES } from '../../src/ws/open-sockets';
import { GraphqlWsSocket } from '../../src/ws/ws-socket';

describe('OpenSockets keep-alive', () => {
  let wss: WebSocketServer;
  let open: OpenSockets;

  beforeEach(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, clientTracking: false, WebSocket: GraphqlWsSocket });
    await once(wss, 'listening');
    open = new OpenSockets(100);
    wss.on('connection', (socket: GraphqlWsSocket, request) => {
      socket.transport = request.socket;
      open.add(socket);
      socket.on('close', () => open.remove(socket));
    });
  });

  afterEach(async () => {
    for (const socket of open) socket.terminate();
    await open.stop();
    await new Promise((resolve) => wss.close(resolve));
  });

  const connect = async (options: WebSocket.ClientOptions = {}) => {
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, options);
    await once(client, 'open');
    return client;
  };

  it('keeps sockets that answer pings and terminates those that do not, within two intervals', async () => {
    const alive = await connect();
    let pings = 0;
    alive.on('ping', () => pings++);
    const deaf = await connect({ autoPong: false });
    const deafClosed = new Promise<number>((resolve) => deaf.once('close', (code) => resolve(code)));
    const started = Date.now();
    const code = await deafClosed;
    expect(code).toBe(1006); // terminated, no close frame
    expect(Date.now() - started).toBeLessThan(1000);
    // The socket that answers outlives three more sweeps (each pings it).
    const pingsBefore = pings;
    await new Promise<void>((resolve) => alive.on('ping', () => pings >= pingsBefore + 3 && resolve()));
    expect(alive.readyState).toBe(WebSocket.OPEN);
    expect(open.size).toBe(1);
    alive.close();
  });

  it('spreads the pings of a sweep over the interval instead of sending them at once', async () => {
    const clients = await Promise.all(Array.from({ length: 2 * SWEEP_SLICES }, () => connect()));
    const pings: number[] = [];
    let listening = true;
    await new Promise<void>((resolve) => {
      const started = performance.now();
      for (const client of clients) {
        client.on('ping', () => {
          if (!listening) return;
          pings.push(performance.now());
          // Two whole intervals (100 ms each) after every client was connected.
          if (performance.now() - started >= 200) resolve();
        });
      }
    });
    listening = false;
    // Every client is pinged in each interval, about two per slice: never a whole sweep in one burst.
    expect(pings.length).toBeGreaterThanOrEqual(clients.length);
    const mostWithin5Ms = Math.max(...pings.map((t) => pings.filter((u) => u >= t && u < t + 5).length));
    expect(mostWithin5Ms).toBeLessThan(clients.length / 2);
    for (const client of clients) client.close();
  });

  it('pings a socket once per interval, however few the sockets', async () => {
    const client = await connect();
    const pings: number[] = [];
    await new Promise<void>((resolve) =>
      client.on('ping', () => {
        pings.push(performance.now());
        if (pings.length === 4) resolve();
      }),
    );
    const gaps = pings.slice(1).map((t, i) => t - pings[i]);
    // The interval is 100 ms; a sweep must not restart as soon as its few sockets are visited.
    expect(Math.min(...gaps)).toBeGreaterThan(50);
    client.close();
  });

  it('stop() resolves once every socket is gone', async () => {
    const client = await connect();
    let stopped = false;
    const stopping = open.stop().then(() => (stopped = true));
    // A round trip on the socket (ping, pong) comes after anything stop() had already settled.
    client.ping();
    await once(client, 'pong');
    expect(stopped).toBe(false);
    client.close();
    await stopping;
    expect(open.size).toBe(0);
  });
});
