import { MessageAddedDocument, SendMessageDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances, type Instance } from '../support/server';
import { eventually } from '../support/wait';

const setup = useTwoInstances();
const { keep } = setup;

/** One sample of an instance's /metrics (0 when the series is absent). */
async function sample(server: Instance, series: string): Promise<number> {
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const LAG = 'parley_pubsub_lag_seconds_count';
const LATENCY = 'parley_delivery_latency_seconds_count';
const TOPICS = 'parley_pubsub_topics';
const DELIVERIES = 'parley_deliveries_total';

it('times pub/sub lag on every receiving instance and delivery latency at the socket write', async () => {
  const { a, b } = setup;
  const alice = await buildUser(a);
  const bob = await buildUser(a);
  const conversation = await buildConversation(a, alice, bob);
  // Bob listens on B; Alice on A, her own messages included: both instances hear the topic.
  const bobs = keep(await subscribeLive(b, bob, 'messageAdded', MessageAddedDocument, {}));
  const alices = keep(
    await subscribeLive(a, alice, 'messageAdded', MessageAddedDocument, {
      conversationId: conversation.id,
      includeOwn: true,
    }),
  );
  expect(await sample(a, TOPICS)).toBeGreaterThan(0);
  expect(await sample(b, TOPICS)).toBeGreaterThan(0);
  const before = {
    lagA: await sample(a, LAG),
    lagB: await sample(b, LAG),
    latencyA: await sample(a, LATENCY),
    latencyB: await sample(b, LATENCY),
  };

  await ok(a, SendMessageDocument, { input: { conversationId: conversation.id, body: 'timed' } }, alice.token);
  await eventually(() => bobs.events.length === 1 && alices.events.length === 1, 5_000, 'both deliveries');

  // Received from Redis on both instances: the publishing one hears its own publish too.
  expect(await sample(a, LAG)).toBeGreaterThan(before.lagA);
  expect(await sample(b, LAG)).toBeGreaterThan(before.lagB);
  // One frame written on each instance's socket (the client has it, so the write is done).
  expect(await sample(b, LATENCY)).toBe(before.latencyB + 1);
  expect(await sample(a, LATENCY)).toBe(before.latencyA + 1);
});

it('counts a replayed message as a delivery but not in the delivery latency', async () => {
  const { a, b } = setup;
  const alice = await buildUser(a);
  const bob = await buildUser(a);
  const conversation = await buildConversation(a, alice, bob);
  await ok(a, SendMessageDocument, { input: { conversationId: conversation.id, body: 'old' } }, alice.token);
  const before = { latency: await sample(b, LATENCY), deliveries: await sample(b, DELIVERIES) };

  const replay = keep(
    await subscribeLive(b, bob, 'messageAdded', MessageAddedDocument, {
      conversationId: conversation.id,
      after: [{ conversationId: conversation.id, seq: 0 }],
    }),
  );
  await eventually(() => replay.events.length === 1, 5_000, 'the replayed message');
  expect(await sample(b, DELIVERIES)).toBe(before.deliveries + 1);
  expect(await sample(b, LATENCY)).toBe(before.latency);
});

it('stops counting a topic once its last subscriber leaves', async () => {
  const { b } = setup;
  const carol = await buildUser(b);
  const before = await sample(b, TOPICS);
  const sub = await subscribeLive(b, carol, 'messageAdded', MessageAddedDocument, {});
  // Carol's own topic (new conversations), which nobody else on B listens to.
  expect(await sample(b, TOPICS)).toBeGreaterThan(before);
  await sub.dispose();
  await eventually(async () => (await sample(b, TOPICS)) === before, 5_000, 'the topic released');
});
