import { SetTypingDocument, StartConversationDocument, TypingDocument, type TypingSubscription } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, http, ok, registerUser, settle, Subscription, type TestUser } from '../support/clients';
import { connected, subscribeLive, useTwoInstances } from '../support/state';

const setup = useTwoInstances();
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

/** alice and bob in a fresh conversation, and mallory outside it. */
async function room() {
  const [alice, bob, mallory] = await Promise.all([registerUser(a, 'alice'), registerUser(a, 'bob'), registerUser(a, 'mallory')]);
  const conversationId = (await ok(a, StartConversationDocument, { participantIds: [bob.id] }, alice.token)).startConversation.id;
  return { alice, bob, mallory, conversationId };
}

async function watch(server: ParleyServer, user: TestUser, conversationId: string) {
  const client = keep(await connected(server, user));
  return keep(await subscribeLive<TypingSubscription>(server, client, 'typing', TypingDocument, { conversationId }));
}

const typing = (server: ParleyServer, user: TestUser, conversationId: string, isTyping: boolean) =>
  ok(server, SetTypingDocument, { conversationId, isTyping }, user.token).then((d) => d.setTyping);

/** Each event as [userId, isTyping, ms since `t0`]. */
const timeline = (sub: Subscription<TypingSubscription>, times: number[], t0: number) =>
  sub.events.map((e, i) => [e.typing.userId, e.typing.isTyping, times[i] - t0] as const);

/** Watches like {@link watch}, also recording when each event arrives and when watching began. */
async function watchTimed(server: ParleyServer, user: TestUser, conversationId: string) {
  const sub = await watch(server, user, conversationId);
  const times: number[] = [];
  const push = sub.events.push.bind(sub.events);
  sub.events.push = (...items) => {
    for (const _ of items) times.push(Date.now());
    return push(...items);
  };
  return { sub, times, t0: Date.now() };
}

describe('typing', () => {
  it('reaches the other participants on another instance, never the typer', async () => {
    const { alice, bob, conversationId } = await room();
    const bobSees = await watch(b, bob, conversationId);
    const aliceSees = await watch(a, alice, conversationId);

    expect(await typing(a, alice, conversationId, true)).toBe(true);
    const [started] = await bobSees.waitFor(1);
    expect(started.typing).toEqual({ conversationId, userId: alice.id, isTyping: true, user: { id: alice.id, username: alice.username } });

    expect(await typing(b, bob, conversationId, true)).toBe(true);
    await aliceSees.waitFor(1);
    await settle(1100);
    expect(await typing(a, alice, conversationId, false)).toBe(true);
    await bobSees.waitFor(2);
    await settle();
    expect(aliceSees.events.map((e) => [e.typing.userId, e.typing.isTyping])).toEqual([[bob.id, true]]);
    expect(bobSees.events.map((e) => [e.typing.userId, e.typing.isTyping])).toEqual([
      [alice.id, true],
      [alice.id, false],
    ]);
  });

  it('publishes at most one event per second, and extra calls still succeed', async () => {
    const { alice, bob, conversationId } = await room();
    const { sub: bobSees, times, t0 } = await watchTimed(b, bob, conversationId);
    for (let i = 0; i < 5; i++) expect(await typing(i % 2 ? a : b, alice, conversationId, true)).toBe(true);
    await settle(700);
    expect(bobSees.events).toHaveLength(1);
    // A refresh after the second has passed is published again (late subscribers learn of it).
    await settle(400);
    await typing(a, alice, conversationId, true);
    await bobSees.waitFor(2);
    const [first, second] = timeline(bobSees, times, t0);
    expect(first.slice(0, 2)).toEqual([alice.id, true]);
    expect(second.slice(0, 2)).toEqual([alice.id, true]);
    expect(second[2] - first[2]).toBeGreaterThanOrEqual(1000);
    await typing(a, alice, conversationId, false);
  });

  it('still delivers a stop that came within the second, once the second is over', async () => {
    const { alice, bob, conversationId } = await room();
    const { sub: bobSees, times, t0 } = await watchTimed(a, bob, conversationId);
    await typing(a, alice, conversationId, true);
    await typing(b, alice, conversationId, false);
    await bobSees.waitFor(2);
    const [[, started, startedAt], [, stopped, stoppedAt]] = timeline(bobSees, times, t0);
    expect([started, stopped]).toEqual([true, false]);
    expect(stoppedAt - startedAt).toBeGreaterThanOrEqual(900);
    expect(stoppedAt - startedAt).toBeLessThan(2000);
  });

  it('ends by itself 6 seconds after the last refresh, on whichever instance refreshed it', async () => {
    const { alice, bob, conversationId } = await room();
    const { sub: bobSees, times, t0 } = await watchTimed(b, bob, conversationId);
    await typing(a, alice, conversationId, true);
    await settle(3000);
    // Refreshed through the other instance: instance A's expiry must not fire at 6 s.
    const refreshedAt = Date.now() - t0;
    await typing(b, alice, conversationId, true);
    await bobSees.waitFor(3, 12_000);
    const events = timeline(bobSees, times, t0);
    expect(events.map(([user, isTyping]) => [user, isTyping])).toEqual([
      [alice.id, true],
      [alice.id, true],
      [alice.id, false],
    ]);
    const endedAfterRefresh = events[2][2] - refreshedAt;
    expect(endedAfterRefresh).toBeGreaterThanOrEqual(5800);
    expect(endedAfterRefresh).toBeLessThan(7500);
    await settle(500);
    expect(bobSees.events).toHaveLength(3);
  }, 20_000);

  it('is FORBIDDEN to set or watch outside my conversations', async () => {
    const { mallory, conversationId } = await room();
    expect(codes(await http(b, SetTypingDocument, { conversationId, isTyping: true }, mallory.token))).toEqual(['FORBIDDEN']);
    const denied = keep(new Subscription(keep(await connected(a, mallory)), TypingDocument, { conversationId }));
    expect(await denied.failure()).toEqual(['FORBIDDEN']);
  });
});
