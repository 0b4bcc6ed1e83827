import type { ParleyServer } from '../../src/app/server';
import { NotificationsDocument, SendMessageDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { useInstances } from '../support/server';
import { eventually } from '../support/wait';

// One instance with the default (notifications on, worker running) and one started in the test
// with NOTIFICATIONS=off, on the same database and queue.
const setup = useInstances(1);
let on: ParleyServer;
let off: ParleyServer;
beforeAll(async () => {
  on = setup.a;
  off = await setup.cluster.start({ NOTIFICATIONS: 'off' });
});

const send = (server: ParleyServer, user: TestUser, conversationId: string, body: string) =>
  ok(server, SendMessageDocument, { input: { conversationId, body } }, user.token).then((d) => d.sendMessage);
const notifiedOf = async (user: TestUser) =>
  (await ok(on, NotificationsDocument, { first: 100 }, user.token)).notifications.edges.map((e) => e.node.message?.id);

describe('NOTIFICATIONS=off', () => {
  it('enqueues nothing for its sends, while an instance with notifications on still notifies', async () => {
    const sender = await buildUser(on, { prefix: 'sender' });
    const offline = await buildUser(on, { prefix: 'offline' });
    const conversationId = (await buildConversation(on, sender, offline)).id;

    const quiet = await send(off, sender, conversationId, 'through the instance with notifications off');
    const loud = await send(on, sender, conversationId, 'through the instance with notifications on');

    // The worker on `on` takes jobs from the shared queue; the later send's notification arriving
    // means an earlier job, had there been one, would have been taken too.
    await eventually(async () => (await notifiedOf(offline)).includes(loud.id), 10_000, 'notified of the second');
    expect(await notifiedOf(offline)).not.toContain(quiet.id);
  });
});
