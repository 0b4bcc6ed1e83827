import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MeDocument,
  MessageAddedDocument,
  MessagesDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
} from '../../src/client/generated';
import { ok, Subscription, wsClient } from '../support/clients';
import { buildUser } from '../support/factories';
import { useInstances } from '../support/server';

/**
 * The embedded default as `npm start` runs it: src/main.ts in its own process with no
 * DATABASE_URL, REDIS_URL or JWT_SECRET (PGlite in DATA_DIR, in-process pub/sub). A child
 * process also because PGlite's dynamic imports do not load inside jest's module sandbox.
 */
describe('embedded default', () => {
  // No instance yet: the test starts them (one after the other, on one DATA_DIR).
  const setup = useInstances(0, {}, { embedded: true });

  it('serves register, send and subscribe; stops gracefully; keeps data and tokens across a restart', async () => {
    const { cluster } = setup;
    const first = await cluster.startChild();
    const alice = await buildUser(first, { prefix: 'alice' });
    const bob = await buildUser(first, { prefix: 'bob' });
    const conversation = await ok(
      first,
      SendMessageDocument,
      { input: { participantIds: [bob.id], body: 'first' } },
      alice.token,
    );
    const conversationId = conversation.sendMessage.conversationId;

    // Resume from seq 0 so the event cannot be missed however long set-up takes.
    const client = wsClient(first, { authToken: bob.token });
    const sub = new Subscription<MessageAddedSubscription>(client, MessageAddedDocument, {
      after: [{ conversationId, seq: 0 }],
    });
    const sent = await ok(
      first,
      SendMessageDocument,
      { input: { conversationId, body: 'hello embedded' } },
      alice.token,
    );
    const events = await sub.waitFor(2);
    expect(events.map((e) => e.messageAdded)).toEqual([conversation.sendMessage, sent.sendMessage]);

    // SIGTERM: exit code 0 and the open socket closed with 1001 (going away).
    expect(await first.terminate()).toBe(0);
    expect((await client.closed).code).toBe(1001);
    await sub.dispose();
    expect((await stat(join(cluster.dataDir!, 'jwt-secret'))).mode & 0o777).toBe(0o600);

    const second = await cluster.startChild();
    // The token issued before the restart still works, and the history is there.
    expect((await ok(second, MeDocument, {}, alice.token)).me.id).toBe(alice.id);
    const { messages } = await ok(second, MessagesDocument, { conversationId }, bob.token);
    expect(messages.edges.map((e) => e.node.body)).toEqual(['hello embedded', 'first']);
  }, 120_000);
});
