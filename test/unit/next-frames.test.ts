import type { AddressInfo } from 'node:net';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { NextFrames } from '../../src/ws/next-frames';
import { GraphqlWsSocket } from '../../src/ws/ws-socket';

/**
 * The frames a subscription's results are written as, read by a real `ws` client over a real
 * socket: they bypass ws's own framing (src/ws/ws-socket.ts), so a client must still read each
 * one as one text message, whatever its length (the three header forms of RFC 6455).
 */
describe('NextFrames written by GraphqlWsSocket.writeResult', () => {
  let server: WebSocketServer;
  let serverSocket: Promise<GraphqlWsSocket>;
  let client: WebSocket;
  const observed: number[] = [];
  let presented = 0;
  const frames = new NextFrames(
    (result) => {
      presented++;
      return result.errors ? { ...result, errors: result.errors.map((e) => ({ message: e.message })) } : result;
    },
    { observe: (seconds) => observed.push(seconds) },
  );

  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', WebSocket: GraphqlWsSocket });
    serverSocket = new Promise((resolve) =>
      server.once('connection', (socket: GraphqlWsSocket, request) => {
        socket.transport = request.socket;
        socket.frames = frames;
        resolve(socket);
      }),
    );
    await new Promise((resolve) => server.once('listening', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((resolve) => client.once('open', resolve));
  });

  afterAll(async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('arrives as text messages in order, one per result, for every payload length', async () => {
    const socket = await serverSocket;
    const results: ExecutionResult[] = [
      { data: { messageAdded: { body: 'hi' } } },
      { data: { messageAdded: { body: 'é'.repeat(200) } } },
      { data: { messageAdded: { body: 'x'.repeat(70_000) } } },
      { data: null, errors: [new GraphQLError('not found')] },
    ];
    const received: Array<{ text: string; binary: boolean }> = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data: Buffer, binary) => {
        received.push({ text: data.toString('utf8'), binary });
        if (received.length === results.length) resolve();
      }),
    );
    const committedAt = Date.now() - 5;
    results.forEach((result, i) => socket.writeResult(`sub-${i}`, result, i === 0 ? committedAt : 0));
    await all;
    expect(received.every((m) => !m.binary)).toBe(true);
    expect(received.map((m) => JSON.parse(m.text) as unknown)).toEqual([
      { id: 'sub-0', type: 'next', payload: results[0] },
      { id: 'sub-1', type: 'next', payload: results[1] },
      { id: 'sub-2', type: 'next', payload: results[2] },
      { id: 'sub-3', type: 'next', payload: { data: null, errors: [{ message: 'not found' }] } },
    ]);
    // Only the live event (a commit time) is observed, in seconds.
    expect(observed).toHaveLength(1);
    expect(observed[0]).toBeGreaterThanOrEqual(0.005);
  });

  it('shares one encoding of a result between subscribers, each frame with its own id', () => {
    const result: ExecutionResult = { data: { messageAdded: { body: 'shared' } } };
    const before = presented;
    const a = frames.frame('a', result).toString('utf8');
    const b = frames.frame('"quoted"', result).toString('utf8');
    expect(a.slice(2)).toBe('{"id":"a","type":"next","payload":{"data":{"messageAdded":{"body":"shared"}}}}');
    expect(b.slice(2)).toBe(
      '{"id":"\\"quoted\\"","type":"next","payload":{"data":{"messageAdded":{"body":"shared"}}}}',
    );
    expect(presented - before).toBe(1);
  });
});
