import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeDocument, MessageAddedDocument, MessagesDocument, SendMessageDocument, type MessageAddedSubscription } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { ok, registerUser, Subscription, wsClient } from '../support/clients';
import { freePort, startChild, type ChildInstance } from '../support/state';

/**
 * The embedded default as `npm start` runs it: src/main.ts in its own process with no
 * DATABASE_URL, REDIS_URL or JWT_SECRET (PGlite in DATA_DIR, in-process pub/sub). A child
 * process also because PGlite's dynamic imports do not load inside jest's module sandbox.
 */
describe('embedded default', () => {
  let dataDir: string;
  let child: ChildInstance | null = null;

  const start = async () => {
    child = await startChild({ HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    return child as unknown as ParleyServer;
  };
  /** SIGTERM, as a process manager stops it; resolves with the exit code. */
  const terminate = async (instance: ChildInstance) => {
    const exited = new Promise<number | null>((resolve) => instance.process.once('exit', (code) => resolve(code)));
    instance.process.kill('SIGTERM');
    return exited;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-embedded-'));
  });
  afterAll(async () => {
    await child?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves register, send and subscribe; stops gracefully; keeps data and tokens across a restart', async () => {
    const first = await start();
    const alice = await registerUser(first, 'alice');
    const bob = await registerUser(first, 'bob');
    const conversation = await ok(first, SendMessageDocument, { input: { participantIds: [bob.id], body: 'first' } }, alice.token);
    const conversationId = conversation.sendMessage.conversationId;

    // Resume from seq 0 so the event cannot be missed however long set-up takes.
    const client = wsClient(first, { authToken: bob.token });
    const sub = new Subscription<MessageAddedSubscription>(client, MessageAddedDocument, { after: [{ conversationId, seq: 0 }] });
    const sent = await ok(first, SendMessageDocument, { input: { conversationId, body: 'hello embedded' } }, alice.token);
    const events = await sub.waitFor(2);
    expect(events.map((e) => e.messageAdded)).toEqual([conversation.sendMessage, sent.sendMessage]);

    // SIGTERM: exit code 0 and the open socket closed with 1001 (going away).
    expect(await terminate(child!)).toBe(0);
    expect((await client.closed).code).toBe(1001);
    sub.dispose();
    expect((await stat(join(dataDir, 'jwt-secret'))).mode & 0o777).toBe(0o600);

    const second = await start();
    // The token issued before the restart still works, and the history is there.
    expect((await ok(second, MeDocument, {}, alice.token)).me.id).toBe(alice.id);
    const { messages } = await ok(second, MessagesDocument, { conversationId }, bob.token);
    expect(messages.edges.map((e) => e.node.body)).toEqual(['hello embedded', 'first']);
  }, 120_000);
});
