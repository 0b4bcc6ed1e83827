import { SetTypingDocument, TypingDocument, type TypingSubscription } from '../../src/client/generated';
import type { ParleyServer } from '../../src/app/server';
import { codes, connected, http, ok, Subscription } from '../support/clients';
import { buildConversation, buildUser, type TestUser } from '../support/factories';
import { subscribeLive } from '../support/live';
import { useTwoInstances } from '../support/server';
import { eventually } from '../support/wait';

const setup = useTwoInstances();
const { keep } = setup;
let a: ParleyServer;
let b: ParleyServer;
beforeAll(() => ({ a, b } = setup));

/** alice, bob and carol in a fresh conversation, and mallory outside it. */
async function room() {
  const [alice, bob, carol, mallory] = await Promise.all(
    ['alice', 'bob', 'carol', 'mallory'].map((prefix) => buildUser(a, { prefix })),
  );
  const conversationId = (await buildConversation(a, alice, [bob, carol])).id;
  return { alice, bob, carol, mallory, conversationId };
}

/** `user`'s typing subscription (on a socket of its own), live on `server`. */
const watch = async (server: ParleyServer, user: TestUser, conversationId: string) =>
  keep(await subscribeLive(server, user, 'typing', TypingDocument, { conversationId }));

const typing = (server: ParleyServer, user: TestUser, conversationId: string, isTyping: boolean) =>
  ok(server, SetTypingDocument, { conversationId, isTyping }, user.token).then((d) => d.setTyping);

/** Each event as [userId, isTyping]. */
const changes = (sub: Subscription<TypingSubscription>) => sub.events.map((e) => [e.typing.userId, e.typing.isTyping]);

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
    expect(started.typing).toEqual({
      conversationId,
      userId: alice.id,
      isTyping: true,
      user: { id: alice.id, username: alice.username },
    });

    expect(await typing(b, bob, conversationId, true)).toBe(true);
    await aliceSees.waitFor(1);
    // A stop within alice's second: published once the second is over.
    expect(await typing(a, alice, conversationId, false)).toBe(true);
    await bobSees.waitFor(2);
    // bob's own start was published before alice's stop: it would be here.
    expect(changes(bobSees)).toEqual([
      [alice.id, true],
      [alice.id, false],
    ]);
    // alice's own changes were published before bob's stop: they would come before it.
    expect(await typing(b, bob, conversationId, false)).toBe(true);
    await aliceSees.waitFor(2);
    expect(changes(aliceSees)).toEqual([
      [bob.id, true],
      [bob.id, false],
    ]);
  });

  it('publishes at most one event per second, and extra calls still succeed', async () => {
    const { alice, bob, carol, conversationId } = await room();
    const { sub: bobSees, times, t0 } = await watchTimed(b, bob, conversationId);
    const firstCall = Date.now();
    for (let i = 0; i < 5; i++) expect(await typing(i % 2 ? a : b, alice, conversationId, true)).toBe(true);
    // The extra calls published nothing: carol's start, published after them, is bob's next event.
    await typing(a, carol, conversationId, true);
    await bobSees.waitFor(2);
    expect(changes(bobSees)).toEqual([
      [alice.id, true],
      [carol.id, true],
    ]);
    expect(bobSees.events).toHaveLength(2);

    // A refresh after the second has passed is published again (late subscribers learn of it):
    // alice refreshes until bob hears from her again.
    const fromAlice = () => timeline(bobSees, times, t0).filter(([user]) => user === alice.id);
    const calls: Array<{ started: number; returned: number }> = [];
    await eventually(async () => {
      if (fromAlice().length > 1) return true;
      const started = Date.now();
      expect(await typing(a, alice, conversationId, true)).toBe(true);
      calls.push({ started, returned: Date.now() });
      return fromAlice().length > 1;
    });
    const [first, second] = fromAlice();
    expect(first.slice(0, 2)).toEqual([alice.id, true]);
    expect(second.slice(0, 2)).toEqual([alice.id, true]);
    // A second at least between the two publishes: the first was published during the first call,
    // the second by a call that had returned by the last call started before it arrived.
    const lastBefore = calls.filter((c) => c.started - t0 < second[2]).at(-1)!;
    expect(lastBefore.returned - firstCall).toBeGreaterThanOrEqual(1000);
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
    await bobSees.waitFor(1);
    // Refreshed through the other instance until the refresh is published (once the second is
    // over), so that instance A's expiry, 6 s after the first call, would show: it must not fire.
    let refreshedAt = 0;
    await eventually(async () => {
      if (bobSees.events.length > 1) return true;
      refreshedAt = Date.now() - t0;
      await typing(b, alice, conversationId, true);
      return bobSees.events.length > 1;
    });
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
    // Nothing after the end: alice's next start is bob's next event.
    await typing(a, alice, conversationId, true);
    await bobSees.waitFor(4);
    expect(changes(bobSees)).toEqual([
      [alice.id, true],
      [alice.id, true],
      [alice.id, false],
      [alice.id, true],
    ]);
    expect(bobSees.events).toHaveLength(4);
  }, 20_000);

  it('is FORBIDDEN to set or watch outside my conversations', async () => {
    const { mallory, conversationId } = await room();
    expect(codes(await http(b, SetTypingDocument, { conversationId, isTyping: true }, mallory.token))).toEqual([
      'FORBIDDEN',
    ]);
    const denied = keep(new Subscription(keep(await connected(a, mallory)), TypingDocument, { conversationId }));
    expect(await denied.failure()).toEqual(['FORBIDDEN']);
  });
});
