import { print } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import WebSocket from 'ws';
import { MessageAddedDocument, SendMessageDocument } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { trackStreams } from '../support/live';
import { useInstances, type TestCluster } from '../support/server';
import { eventually } from '../support/wait';

/**
 * The graphql-transport-ws protocol as a client that breaks its rules sees it: raw `ws` sockets
 * speaking the messages by hand against a real instance, so that every close code and reply of
 * the server (graphql-ws's `makeServer` behind Parley's socket adapter) is observed as sent.
 */
/** The keep-alive period of the instance under test (WS_KEEP_ALIVE_MS), short so a dead peer is found fast. */
const KEEP_ALIVE_MS = 300;

const setup = useInstances(1, { WS_KEEP_ALIVE_MS: String(KEEP_ALIVE_MS) });
let cluster: TestCluster;
let server: ParleyServer;
let alice: TestUser;
let bob: TestUser;
let conversationId: string;

beforeAll(async () => {
  ({ cluster, a: server } = setup);
  [alice, bob] = [await buildUser(server, { prefix: 'alice' }), await buildUser(server, { prefix: 'bob' })];
  conversationId = (await buildConversation(server, alice, bob)).id;
});

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** The text of a received frame, whichever form `ws` hands it in (one Buffer, fragments, or an ArrayBuffer). */
const frameText = (data: WebSocket.RawData): string =>
  (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');

/** A raw graphql-transport-ws socket: what it received, in order, and how it closed (terminated after the test). */
class RawSocket {
  readonly received: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  readonly ws: WebSocket;
  /** Pings received from the server (its keep-alive). */
  pings = 0;

  /**
   * @param options.protocol - the subprotocol offered; `null` offers none.
   * @param options.url - another instance's WebSocket URL (default: the instance under test).
   */
  constructor(options: { autoPong?: boolean; protocol?: string | null; url?: string } = {}) {
    const protocol = options.protocol === undefined ? GRAPHQL_TRANSPORT_WS_PROTOCOL : options.protocol;
    this.ws = new WebSocket(options.url ?? server.wsUrl, protocol === null ? [] : [protocol], {
      autoPong: options.autoPong ?? true,
    });
    setup.keep({ dispose: () => this.ws.terminate() });
    this.ws.on('ping', () => this.pings++);
    this.ws.on('message', (data) => this.received.push(JSON.parse(frameText(data)) as Message));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  async send(message: Message | string): Promise<void> {
    await this.opened;
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits for the first received message matching `match` (searching from the start). */
  async next(match: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
    let found: Message | undefined;
    await eventually(async () => (found = this.received.find(match)) !== undefined, timeoutMs);
    return found!;
  }

  /** Sends connection_init with `params` and waits for connection_ack. */
  async init(params: Record<string, unknown> = { authToken: bob.token }): Promise<void> {
    await this.send({ type: 'connection_init', payload: params });
    await this.next((m) => m.type === 'connection_ack');
  }

  /** Subscribes `id` to bob's messageAdded of the test conversation. */
  subscribe(id: string): Promise<void> {
    return this.send({
      id,
      type: 'subscribe',
      payload: { query: print(MessageAddedDocument), variables: { conversationId } },
    });
  }
}

const send = (body: string) => ok(server, SendMessageDocument, { input: { conversationId, body } }, alice.token);
/** A sample of an instance's /metrics; `name` may carry labels (`parley_ws_rejected_total{reason="slow_consumer"}`). Absent: NaN. */
const metric = async (name: string, instance: Pick<ParleyServer, 'url'> = server) => {
  const text = await (await fetch(instance.url.replace(/\/graphql$/, '/metrics'))).text();
  const escaped = name.replace(/[{}"$.*+?()[\]\\|^]/g, '\\$&');
  return Number(new RegExp(`^${escaped} (\\d+)`, 'm').exec(text)?.[1]);
};

describe('graphql-transport-ws', () => {
  it('closes with 4403 when connection_init carries no token, or a bad one', async () => {
    const none = new RawSocket();
    await none.send({ type: 'connection_init', payload: {} });
    expect(await none.closed).toEqual({ code: CloseCode.Forbidden, reason: 'Forbidden' });

    const bad = new RawSocket();
    await bad.send({ type: 'connection_init', payload: { authToken: 'not.a.token' } });
    expect(await bad.closed).toEqual({ code: CloseCode.Forbidden, reason: 'Forbidden' });
  });

  it('closes with 4401 on a subscribe before connection_ack', async () => {
    const socket = new RawSocket();
    await socket.subscribe('1');
    expect(await socket.closed).toEqual({ code: CloseCode.Unauthorized, reason: 'Unauthorized' });
  });

  it('closes with 4409 on a second subscribe with an id still running', async () => {
    const socket = new RawSocket();
    await socket.init();
    await socket.subscribe('same');
    await socket.subscribe('same');
    expect(await socket.closed).toEqual({
      code: CloseCode.SubscriberAlreadyExists,
      reason: 'Subscriber for same already exists',
    });
  });

  it('closes with 4429 on a second connection_init', async () => {
    const socket = new RawSocket();
    await socket.init();
    await socket.send({ type: 'connection_init', payload: { authToken: bob.token } });
    expect(await socket.closed).toEqual({
      code: CloseCode.TooManyInitialisationRequests,
      reason: 'Too many initialisation requests',
    });
  });

  it('closes with 4400 on a message that is not graphql-transport-ws', async () => {
    const socket = new RawSocket();
    await socket.send('{"type":"hello"}');
    expect(await socket.closed).toEqual({ code: CloseCode.BadRequest, reason: 'Invalid message received' });
  });

  it('closes with 4406 when the client offers no graphql-transport-ws subprotocol', async () => {
    const socket = new RawSocket({ protocol: null });
    expect(await socket.closed).toEqual({
      code: CloseCode.SubprotocolNotAcceptable,
      reason: 'Subprotocol not acceptable',
    });
  });

  it('closes with 4408 when no connection_init arrives within 3 s', async () => {
    const socket = new RawSocket();
    await socket.opened;
    expect(await socket.closed).toEqual({
      code: CloseCode.ConnectionInitialisationTimeout,
      reason: 'Connection initialisation timeout',
    });
  }, 10_000);

  it('answers a ping with a pong, echoing its payload, before and after connection_init', async () => {
    const socket = new RawSocket();
    await socket.send({ type: 'ping' });
    expect(await socket.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
    await socket.init();
    await socket.send({ type: 'ping', payload: { at: 42 } });
    expect(await socket.next((m) => m.type === 'pong' && m.payload !== undefined)).toEqual({
      type: 'pong',
      payload: { at: 42 },
    });
    socket.ws.close();
  });

  it('stops delivering a subscription the client completes, and ends its stream', async () => {
    const streams = await trackStreams(server, 'messageAdded');
    const socket = new RawSocket();
    await socket.init();
    await socket.subscribe('a');
    await socket.subscribe('b');
    await streams.ready(2);

    const first = await send('to both');
    const delivered = (id: string, messageId: string) => (m: Message) =>
      m.type === 'next' && m.id === id && JSON.stringify(m.payload).includes(messageId);
    await socket.next(delivered('a', first.sendMessage.id));
    await socket.next(delivered('b', first.sendMessage.id));

    await socket.send({ id: 'a', type: 'complete' });
    await streams.ended(1);
    const second = await send('to b only');
    await socket.next(delivered('b', second.sendMessage.id));
    // A sentinel: had a still been delivered the second message, it would have been before b gets the third.
    const third = await send('to b only, after');
    await socket.next(delivered('b', third.sendMessage.id));
    expect(socket.received.filter((m) => m.id === 'a').map((m) => m.type)).toEqual(['next']);
    expect(socket.received.filter((m) => m.id === 'b' && m.type === 'next')).toHaveLength(3);

    // The id is free again once completed: no 4409.
    await socket.subscribe('a');
    await streams.ready(3);
    const fourth = await send('to both again');
    await socket.next(delivered('a', fourth.sendMessage.id));
    expect(
      socket.received
        .filter((m) => m.id === 'a' && m.type === 'next')
        .map((m) => JSON.stringify(m.payload).includes(fourth.sendMessage.id)),
    ).toEqual([false, true]);
    socket.ws.close();
    await streams.ended(3);
  });

  it('runs a query over the socket: next, then complete', async () => {
    const socket = new RawSocket();
    await socket.init();
    await socket.send({ id: 'q', type: 'subscribe', payload: { query: '{ me { id } }' } });
    const complete = await socket.next((m) => m.type === 'complete');
    expect(socket.received.filter((m) => m.id === 'q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { me: { id: bob.id } } } },
      complete,
    ]);
    socket.ws.close();
  });

  it('terminates a socket that stops answering pings (shared keep-alive sweep), and keeps one that answers', async () => {
    // Every socket of the tests before has closed.
    await eventually(async () => (await metric('parley_ws_connections')) === 0);
    const streams = await trackStreams(server, 'messageAdded');
    const dead = new RawSocket({ autoPong: false });
    const alive = new RawSocket();
    await dead.init();
    await alive.init();
    await dead.subscribe('s');
    await streams.ready(1);

    // Terminated without a close frame: the client sees 1006. The server then closes as usual:
    // the socket is no longer counted and its subscription's stream has ended.
    expect((await dead.closed).code).toBe(1006);
    await eventually(async () => (await metric('parley_ws_connections')) === 1);
    await streams.ended(1);
    // The socket that answers outlives three more sweeps of the keep-alive.
    const pingsBefore = alive.pings;
    await eventually(() => alive.pings >= pingsBefore + 3);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.ws.close();
  });
});

describe('slow consumers', () => {
  it('terminates a socket that stops reading once its write queue passes WS_MAX_BUFFERED_BYTES; other subscribers get every message', async () => {
    // No keep-alive here: the paused socket would otherwise be dropped for not answering pings.
    const instance = await cluster.start({ WS_KEEP_ALIVE_MS: '0', WS_MAX_BUFFERED_BYTES: String(256 * 1024) });
    // A labelled counter appears on its first increment.
    const slowConsumers = async () => (await metric('parley_ws_rejected_total{reason="slow_consumer"}', instance)) || 0;
    const streams = await trackStreams(instance, 'messageAdded');
    const slow = new RawSocket({ url: instance.wsUrl });
    await slow.init();
    // 40 subscriptions: each message is 40 frames of ~4 KB for this socket, so its queue grows fast.
    for (let i = 0; i < 40; i++) await slow.subscribe(`s${i}`);
    const healthy = new RawSocket({ url: instance.wsUrl });
    await healthy.init();
    await healthy.subscribe('h');
    await streams.ready(41);
    // The client stops reading: the kernel's buffers fill, then the server's write queue.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const body = 'x'.repeat(4000);
    let sent = 0;
    while (sent < 400 && (await slowConsumers()) === 0) {
      await ok(instance, SendMessageDocument, { input: { conversationId, body } }, alice.token);
      sent++;
    }
    expect(await slowConsumers()).toBe(1);
    expect(sent).toBeLessThan(400);

    // The other subscriber of the same instance got every message, in seq order.
    await eventually(async () => healthy.received.filter((m) => m.type === 'next').length >= sent);
    const seqs = healthy.received
      .filter((m) => m.type === 'next')
      .map((m) => (m.payload as { data: { messageAdded: { seq: number } } }).data.messageAdded.seq);
    expect(seqs).toHaveLength(sent);
    expect(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1] + 1)).toBe(true);

    // Reading again, the slow client finds its connection gone (abnormal close: it reconnects and resumes).
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.closed).code).toBe(1006);
    healthy.ws.close();
  });
});
