import type { Scenario } from '../lib/context';
import { openHalves, startBarePair, type BareWorker } from '../lib/fanout';
import type { ParleyProcess } from '../lib/parley-process';
import { waitSubscribed, type LoadWorker, type SubscriberWorker } from '../lib/probe';
import { perUnit, serverCounters } from '../lib/prom';
import { figure, type Figure } from '../lib/results';
import { seedUsers, startConversations, type BenchUser } from '../lib/seed';
import { summarize, wallNow } from '../lib/stats';
import type { SenderSpec } from '../workers/graphql-load.worker';

/** `count` groups of `size` subscribers, each with one more participant who sends. */
interface Layout {
  count: number;
  size: number;
  conversationIds: string[];
  senders: SenderSpec[];
}

/** One layout measured on Parley or on the bare servers. */
interface GroupsRun {
  /** ms from a round's first send (or the bare servers' start) to its last delivery, per round */
  rounds: number[];
  delivered: number;
  expected: number;
  perSecond: number;
  outOfOrder: number;
  perDelivery?: { cpuMs: number; queries: number };
}

const parseLayouts = (text: string) =>
  text.split(',').map((part) => {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`--groups wants COUNTxSIZE pairs separated by commas, got ${JSON.stringify(text)}`);
    return { count: Number(m[1]), size: Number(m[2]) };
  });

/** The receivers of each process that a layout reaches (subscriber i lives in process i mod 2). */
const localCounts = (layout: Layout, processes: number) =>
  Array.from({ length: processes }, (_, k) =>
    Array.from({ length: layout.count * layout.size }, (_, i) => i).filter((i) => i % processes === k),
  ).map((l) => l.length);

async function measure(
  receivers: SubscriberWorker[],
  layout: Layout,
  rounds: number,
  fire: (round: number) => Promise<number>,
): Promise<GroupsRun> {
  const local = localCounts(layout, receivers.length);
  const run: GroupsRun = { rounds: [], delivered: 0, expected: 0, perSecond: 0, outOfOrder: 0 };
  for (let k = 0; k < rounds; k++) {
    await Promise.all(receivers.map((r) => r.call('reset', undefined)));
    const start = await fire(k);
    const got = await Promise.all(
      receivers.map((r, i) => r.call('waitTotal', { expected: local[i], timeoutMs: 60_000 })),
    );
    run.rounds.push(Math.max(...got.map((g) => g.last)) - start);
    run.delivered += got.reduce((s, g) => s + g.received, 0);
    run.expected += layout.count * layout.size;
    run.outOfOrder += got.reduce((s, g) => s + g.outOfOrder, 0);
  }
  run.perSecond = (run.delivered * 1000) / run.rounds.reduce((s, ms) => s + ms, 0);
  return run;
}

/**
 * 7. Many small groups: every subscriber holds one graphql-ws connection with one `messageAdded`
 * subscription (all of its conversations), split over instances A and B; for each layout (by
 * default 1,000 groups of 10 and 100 groups of 100, over the same 10,000 subscribers) a round
 * sends one message to every group over HTTP on A, and the round ends when every subscriber has
 * it. Deliveries per second and time to the last subscriber of a round. Baseline: two bare `ws`
 * servers holding the same sockets, sending each group's frame (serialized once per group) to its
 * sockets.
 */
export const groups: Scenario = async (ctx) => {
  const f = ctx.flags;
  const specs = parseLayouts(f.get('groups') ?? (f.quick ? '20x10,2x100' : '1000x10,100x100'));
  const rounds = f.number('rounds', 5, 2);
  const concurrency = f.number('send-concurrency', 16, 8);
  const subscriberCount = Math.max(...specs.map((l) => l.count * l.size));

  const stack = await ctx.stack();
  const env = { MAX_PARTICIPANTS: String(Math.max(100, ...specs.map((l) => l.size + 1))) };
  const a = await stack.start('A', env);
  const b = await stack.start('B', env);
  const peerA = await stack.startPeer('peer-A');
  const peerB = await stack.startPeer('peer-B');
  const subscribers = await seedUsers(stack, 'grp', subscriberCount);
  const layouts: Layout[] = [];
  for (const [n, spec] of specs.entries()) {
    const senders = await seedUsers(stack, `grp${n}s`, spec.count);
    const members = (g: number): BenchUser[] => subscribers.slice(g * spec.size, (g + 1) * spec.size);
    ctx.log(`starting ${spec.count} groups of ${spec.size}`);
    const conversationIds = await startConversations(
      a.url,
      senders.map((starter, g) => ({ starter, others: members(g) })),
    );
    layouts.push({
      ...spec,
      conversationIds,
      senders: senders.map((u, g) => ({ token: u.token, senderId: u.id, conversationId: conversationIds[g] })),
    });
  }
  /** The group of subscriber i in each layout (raw sockets tell the bare servers). */
  const groupsOf = (i: number) =>
    layouts.filter((l) => i < l.count * l.size).map((l) => l.conversationIds[Math.floor(i / l.size)]);

  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'groups-senders');
  const receivers: SubscriberWorker[] = [
    await ctx.worker('subscribers.worker.ts', 'groups-receivers-1', { maxOldSpaceMb: 1024 }),
    await ctx.worker('subscribers.worker.ts', 'groups-receivers-2', { maxOldSpaceMb: 1024 }),
  ];
  /** Every layout on a pair of servers (graphql-ws): senders post to the first. */
  const measureOn = async (x: ParleyProcess, y: ParleyProcess, counted: ParleyProcess[], who: string) => {
    await openHalves(
      ctx,
      receivers,
      'graphql-ws',
      [x.wsUrl, y.wsUrl],
      subscribers.map((u) => ({ token: u.token, conversationId: null })),
    );
    const runs: GroupsRun[] = [];
    for (const layout of layouts) {
      await load.call('connect', { transport: 'http', httpUrl: x.url, wsUrl: x.wsUrl, senders: layout.senders });
      await waitSubscribed(load, receivers);
      ctx.log(`${who}: ${layout.count} groups of ${layout.size}, ${rounds} rounds`);
      const before = await serverCounters(counted);
      const run = await measure(receivers, layout, rounds, async () => {
        const start = wallNow();
        const sent = await load.call('round', { concurrency });
        if (sent.errors) throw new Error(`${sent.errors} sends of a round failed: ${sent.firstError}`);
        return start;
      });
      if (counted.length) run.perDelivery = perUnit(before, await serverCounters(counted), run.delivered);
      ctx.log(
        `  ${Math.round(run.perSecond)} deliveries/s, last subscriber after ${summarize(run.rounds).p50.toFixed(0)} ms`,
      );
      runs.push(run);
    }
    const captured = await receivers[0].call('sample', undefined);
    await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));
    return { runs, captured };
  };
  const { runs: parley, captured } = await measureOn(a, b, [a, b], 'Parley');
  const { runs: peer } = await measureOn(peerA, peerB, [], 'textbook peer');
  const sample = captured ?? {};
  await load.call('close', undefined);

  const { bare, urls } = await startBarePair(ctx);
  await openHalves(
    ctx,
    receivers,
    'raw',
    urls,
    subscribers.map((u, i) => ({ token: u.token, conversationId: null, conversationIds: groupsOf(i) })),
  );
  const baseline: GroupsRun[] = [];
  for (const layout of layouts) {
    ctx.log(`bare ws: ${layout.count} groups of ${layout.size}, ${rounds} rounds`);
    baseline.push(await measureBare(bare, receivers, layout, rounds, sample));
  }
  await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));

  const figures: Figure[] = [];
  const names = layouts.map((l) => `${l.count} groups of ${l.size}`);
  for (const i of layouts.keys()) {
    const p = parley[i];
    const base = baseline[i];
    for (const [who, run] of [
      ['Parley', p],
      ['textbook peer', peer[i]],
      ['bare ws', base],
    ] as const) {
      if (run.delivered !== run.expected)
        ctx.warn(`${who}, ${names[i]}: ${run.delivered} of ${run.expected} deliveries arrived`);
      if (run.outOfOrder) ctx.warn(`${who}, ${names[i]}: ${run.outOfOrder} deliveries out of order`);
    }
    const r = p.perSecond / base.perSecond;
    figures.push(
      figure({
        label: `deliveries/s, ${names[i]}`,
        unit: 'deliveries/s',
        value: p.perSecond,
        baseline: base.perSecond,
        baselineLabel: 'bare ws',
        peer: peer[i].perSecond,
        target: { text: 'ratio ≥ 0.60', met: Number.isFinite(r) && r >= 0.6 },
      }),
      figure({
        label: `time to last subscriber of a round (median), ${names[i]}`,
        unit: 'ms',
        value: summarize(p.rounds).p50,
        baseline: summarize(base.rounds).p50,
        baselineLabel: 'bare ws',
        peer: summarize(peer[i].rounds).p50,
      }),
    );
  }
  return {
    title: '7. Many small groups',
    options: { layouts: specs, rounds, sendConcurrency: concurrency, subscribers: subscriberCount },
    figures,
    charts: [
      {
        kind: 'bar',
        title: 'deliveries per second',
        unit: 'deliveries/s',
        categories: names,
        series: [
          { name: 'bare ws baseline', values: baseline.map((r) => r.perSecond) },
          { name: 'textbook peer', values: peer.map((r) => r.perSecond) },
          { name: 'Parley', values: parley.map((r) => r.perSecond) },
        ],
      },
      {
        kind: 'bar',
        title: 'time to the last subscriber of a round (median)',
        unit: 'ms',
        categories: names,
        series: [
          { name: 'bare ws', values: baseline.map((r) => summarize(r.rounds).p50) },
          { name: 'textbook peer', values: peer.map((r) => summarize(r.rounds).p50) },
          { name: 'Parley', values: parley.map((r) => summarize(r.rounds).p50) },
        ],
      },
    ],
    details: { layouts: specs, parley, peer, baseline },
    notes: [
      `${subscriberCount} subscribers, each with one graphql-ws connection holding one \`messageAdded\` subscription over all of its conversations, alternating between instance A and instance B (two receiver processes). Each group has one more participant, its sender, posting over HTTP to A; MAX_PARTICIPANTS=${env.MAX_PARTICIPANTS}.`,
      `A round sends one message to every group (${concurrency} sends in flight) and ends when every subscriber of the layout has it; ${rounds} rounds one after the other. Deliveries/s = deliveries ÷ the summed round times; a round's time runs from its first send to its last arrival, so it includes the sends.`,
      `Server work per delivery (A and B, from /metrics, the sends included): ${layouts.map((_, i) => `${names[i]}: ${parley[i].perDelivery?.queries.toFixed(2)} SQL statements, ${parley[i].perDelivery?.cpuMs.toFixed(3)} ms CPU`).join('; ')}.`,
      'Peer: two textbook peer instances (bench/peers/textbook) sharing Redis, the same subscribers split the same way, the senders on the first.',
      "Baseline: two bare ws processes holding the same sockets (same split); a round writes each group's frame — a real `messageAdded` payload captured from the Parley run, serialized once per group — to the group's sockets.",
    ],
  };
};

async function measureBare(
  bare: BareWorker[],
  receivers: SubscriberWorker[],
  layout: Layout,
  rounds: number,
  sample: Record<string, unknown>,
): Promise<GroupsRun> {
  return measure(receivers, layout, rounds, async (round) => {
    const atWall = wallNow() + 30;
    await Promise.all(
      bare.map((s) =>
        s.call('broadcastGroups', { atWall, seq: 1_000_000 + round, conversationIds: layout.conversationIds, sample }),
      ),
    );
    return atWall;
  });
}
