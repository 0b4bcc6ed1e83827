import { NotificationAddedDocument, NotificationsDocument, SendMessageDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useInstances } from '../support/server';

// The embedded default: PGlite, in-process pub/sub and the in-process queue; no Redis.
const setup = useInstances(1, {}, { embedded: true });

it('stores notifications and delivers them live without Redis', async () => {
  const { a } = setup;
  const [alice, bob] = await Promise.all(['alice', 'bob'].map((prefix) => buildUser(a, { prefix })));
  const conversationId = (await buildConversation(a, alice, bob)).id;
  const live = setup.keep(await subscribeLive(a, bob, 'notificationAdded', NotificationAddedDocument, {}));
  const sent = await ok(a, SendMessageDocument, { input: { conversationId, body: 'embedded' } }, alice.token);
  const event = await live.waitForMatch((e) => e.notificationAdded.kind === 'NEW_MESSAGE');
  expect(event.notificationAdded.message).toMatchObject({ id: sent.sendMessage.id, body: 'embedded' });
  const page = (await ok(a, NotificationsDocument, {}, bob.token)).notifications;
  expect(page.edges.map((e) => e.node.kind)).toEqual(['NEW_MESSAGE', 'ADDED_TO_CONVERSATION']);
  expect(page.unreadCount).toBe(2);
});
