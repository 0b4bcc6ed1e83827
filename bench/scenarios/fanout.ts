import type { Scenario } from '../lib/context';
import { mergeTallies, openHalves, startBarePair, type BareWorker } from '../lib/fanout';
import { waitSubscribed, type LoadWorker, type SubscriberWorker } from '../lib/probe';
import type { ParleyProcess } from '../lib/parley-process';
import { perUnit, serverCounters } from '../lib/prom';
import { figure, type Figure } from '../lib/results';
import { seedUsers, startConversations } from '../lib/seed';
import { median, sleep, wallNow } from '../lib/stats';

/** One fan-out measurement (Parley or the bare baseline) for one group size. */
interface FanoutRun {
  /** ms from send to the first and to the last subscriber, per single-message trial */
  trials: Array<{ first: number; last: number; delivered: number }>;
  /** the burst: deliveries, expected deliveries, ms from first send to last arrival */
  burst: { messages: number; delivered: number; expected: number; ms: number; perSecond: number; outOfOrder: number };
  /** server CPU and SQL statements per delivery during the burst (Parley only, both instances) */
  perDelivery?: { cpuMs: number; queries: number };
}

async function waitAll(receivers: SubscriberWorker[], conversationId: string, seqs: number[], timeoutMs: number) {
  const parts = await Promise.all(receivers.map((r) => r.call('waitSeqs', { conversationId, seqs, timeoutMs })));
  return { ...mergeTallies(parts), outOfOrder: parts.reduce((s, p) => s + p.outOfOrder, 0) };
}

/** Parley: single messages (time to first/last subscriber), then a burst (deliveries per second). */
async function measureParley(
  servers: ParleyProcess[],
  load: LoadWorker,
  receivers: SubscriberWorker[],
  conversationId: string,
  n: number,
  trials: number,
  burst: number,
  concurrency: number,
): Promise<FanoutRun> {
  const run: FanoutRun = {
    trials: [],
    burst: { messages: burst, delivered: 0, expected: burst * n, ms: 0, perSecond: 0, outOfOrder: 0 },
  };
  for (let i = 0; i < trials; i++) {
    const sent = await load.call('burst', { count: 1, concurrency: 1 });
    if (!sent.sends.length) throw new Error(`send failed: ${sent.firstError}`);
    const { seq, sentAt } = sent.sends[0];
    const got = await waitAll(receivers, conversationId, [seq], 30_000);
    run.trials.push({ first: got.first - sentAt, last: got.last - sentAt, delivered: got.delivered });
    await sleep(100);
  }
  const before = await serverCounters(servers);
  const sent = await load.call('burst', { count: burst, concurrency });
  if (sent.errors) throw new Error(`${sent.errors} sends of the burst failed: ${sent.firstError}`);
  const start = Math.min(...sent.sends.map((s) => s.sentAt));
  const got = await waitAll(
    receivers,
    conversationId,
    sent.sends.map((s) => s.seq),
    90_000,
  );
  const ms = got.last - start;
  run.burst = {
    messages: burst,
    delivered: got.delivered,
    expected: burst * n,
    ms,
    perSecond: (got.delivered * 1000) / ms,
    outOfOrder: got.outOfOrder,
  };
  if (servers.length) run.perDelivery = perUnit(before, await serverCounters(servers), got.delivered);
  return run;
}

/** The bare servers: the same trials and burst, each event serialized once and written to every socket. */
async function measureBare(
  servers: BareWorker[],
  receivers: SubscriberWorker[],
  sample: Record<string, unknown>,
  n: number,
  trials: number,
  burst: number,
): Promise<FanoutRun> {
  const conversationId = String(sample.conversationId);
  const run: FanoutRun = {
    trials: [],
    burst: { messages: burst, delivered: 0, expected: burst * n, ms: 0, perSecond: 0, outOfOrder: 0 },
  };
  let seq = 1;
  for (let i = 0; i < trials; i++, seq++) {
    const atWall = wallNow() + 30;
    await Promise.all(servers.map((s) => s.call('broadcast', { atWall, count: 1, firstSeq: seq, sample })));
    const got = await waitAll(receivers, conversationId, [seq], 30_000);
    run.trials.push({ first: got.first - atWall, last: got.last - atWall, delivered: got.delivered });
    await sleep(100);
  }
  const atWall = wallNow() + 30;
  await Promise.all(servers.map((s) => s.call('broadcast', { atWall, count: burst, firstSeq: seq, sample })));
  const seqs = Array.from({ length: burst }, (_, k) => seq + k);
  const got = await waitAll(receivers, conversationId, seqs, 90_000);
  const ms = got.last - atWall;
  run.burst = {
    messages: burst,
    delivered: got.delivered,
    expected: burst * n,
    ms,
    perSecond: (got.delivered * 1000) / ms,
    outOfOrder: got.outOfOrder,
  };
  return run;
}

/**
 * 3. Fan-out: one group conversation of N subscribed participants (plus the sender), the
 * subscribers split over instances A and B; the sender posts on A over HTTP. Measures the time
 * from a send until the first and the last subscriber has it (single messages), and deliveries per
 * second over a burst. Baseline: two bare `ws` servers, each writing one pre-serialized event
 * (the same frame shape) to the same number of sockets.
 */
export const fanout: Scenario = async (ctx) => {
  const f = ctx.flags;
  const sizes = f.numbers('subscribers', [100, 1000], [10, 50]);
  const trials = f.number('trials', 5, 2);
  const deliveries = f.number('deliveries', 50_000, 500);
  const burstOf = (n: number) => (f.get('burst') ? f.number('burst', 0) : Math.max(5, Math.ceil(deliveries / n)));
  const concurrency = f.number('send-concurrency', 4);

  const stack = await ctx.stack();
  const env = { MAX_PARTICIPANTS: String(Math.max(1000, ...sizes.map((n) => n + 1))) };
  const a = await stack.start('A', env);
  const b = await stack.start('B', env);
  const peerA = await stack.startPeer('peer-A');
  const peerB = await stack.startPeer('peer-B');
  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'fanout-sender');
  const receivers: SubscriberWorker[] = [
    await ctx.worker('subscribers.worker.ts', 'fanout-receivers-1'),
    await ctx.worker('subscribers.worker.ts', 'fanout-receivers-2'),
  ];
  const { bare, urls: bareUrls } = await startBarePair(ctx);

  const results: Array<{ n: number; parley: FanoutRun; peer: FanoutRun; bare: FanoutRun }> = [];
  for (const n of sizes) {
    const burst = burstOf(n);
    ctx.log(`group of ${n}: ${trials} single messages, then a burst of ${burst}`);
    const [sender, ...subscribers] = await seedUsers(stack, `fan${n}_`, n + 1);
    const [conversationId] = await startConversations(a.url, [{ starter: sender, others: subscribers }]);
    /** The graphql-ws measurement on a pair of servers: the sender posts to the first. */
    const measureOn = async (x: ParleyProcess, y: ParleyProcess, counted: ParleyProcess[]) => {
      await load.call('connect', {
        transport: 'http',
        httpUrl: x.url,
        wsUrl: x.wsUrl,
        senders: [{ token: sender.token, senderId: sender.id, conversationId }],
      });
      // Parley's receivers have the conversation open (setActiveConversation, as the web client
      // does), so its notifications module, rightly, notifies none of them; the peer has none.
      await openHalves(
        ctx,
        receivers,
        'graphql-ws',
        [x.wsUrl, y.wsUrl],
        subscribers.map((u) => ({ token: u.token, conversationId, viewing: counted.length > 0 })),
      );
      await waitSubscribed(load, receivers);
      const run = await measureParley(counted, load, receivers, conversationId, n, trials, burst, concurrency);
      const captured = await receivers[0].call('sample', undefined);
      await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));
      await Promise.all(receivers.map((r) => r.call('reset', undefined)));
      return { run, captured };
    };
    const { run: parley, captured } = await measureOn(a, b, [a, b]);
    const sample = captured ?? { conversationId };
    ctx.log(
      `  Parley: ${Math.round(parley.burst.perSecond)} deliveries/s, last subscriber after ${median(parley.trials.map((t) => t.last)).toFixed(1)} ms`,
    );
    const { run: peerRun } = await measureOn(peerA, peerB, []);
    ctx.log(
      `  textbook peer: ${Math.round(peerRun.burst.perSecond)} deliveries/s, last subscriber after ${median(peerRun.trials.map((t) => t.last)).toFixed(1)} ms`,
    );

    await openHalves(
      ctx,
      receivers,
      'raw',
      bareUrls,
      subscribers.map((u) => ({ token: u.token, conversationId })),
    );
    const bareRun = await measureBare(bare, receivers, sample, n, trials, burst);
    await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));
    await Promise.all(receivers.map((r) => r.call('reset', undefined)));
    ctx.log(
      `  bare ws: ${Math.round(bareRun.burst.perSecond)} deliveries/s, last subscriber after ${median(bareRun.trials.map((t) => t.last)).toFixed(1)} ms`,
    );
    for (const [who, run] of [
      ['Parley', parley],
      ['textbook peer', peerRun],
      ['bare ws', bareRun],
    ] as const) {
      if (run.burst.delivered !== run.burst.expected)
        ctx.warn(`${who}, group of ${n}: ${run.burst.delivered} of ${run.burst.expected} burst deliveries arrived`);
      const short = run.trials.filter((t) => t.delivered !== n).length;
      if (short) ctx.warn(`${who}, group of ${n}: ${short} single-message trials did not reach all ${n} subscribers`);
      if (run.burst.outOfOrder) ctx.warn(`${who}, group of ${n}: ${run.burst.outOfOrder} deliveries out of order`);
    }
    results.push({ n, parley, peer: peerRun, bare: bareRun });
  }
  await load.call('close', undefined);

  const figures: Figure[] = [];
  for (const { n, parley, peer, bare: base } of results) {
    const ratio = parley.burst.perSecond / base.burst.perSecond;
    figures.push(
      figure({
        label: `fan-out deliveries/s, group of ${n}`,
        unit: 'deliveries/s',
        value: parley.burst.perSecond,
        baseline: base.burst.perSecond,
        baselineLabel: 'bare ws',
        peer: peer.burst.perSecond,
        ...(n === 1000 ? { target: { text: 'ratio ≥ 0.40', met: ratio >= 0.4 } } : {}),
      }),
      figure({
        label: `time to last subscriber (single message, median), group of ${n}`,
        unit: 'ms',
        value: median(parley.trials.map((t) => t.last)),
        baseline: median(base.trials.map((t) => t.last)),
        baselineLabel: 'bare ws',
        peer: median(peer.trials.map((t) => t.last)),
      }),
      figure({
        label: `time to last subscriber (burst of ${parley.burst.messages}), group of ${n}`,
        unit: 'ms',
        value: parley.burst.ms,
        baseline: base.burst.ms,
        baselineLabel: 'bare ws',
        peer: peer.burst.ms,
      }),
    );
  }
  const categories = results.map((r) => `${r.n} subscribers`);
  return {
    title: '3. Fan-out',
    options: { sizes, trials, bursts: sizes.map(burstOf), sendConcurrency: concurrency },
    figures,
    charts: [
      {
        kind: 'bar',
        title: 'deliveries per second (burst)',
        unit: 'deliveries/s',
        categories,
        series: [
          { name: 'bare ws baseline', values: results.map((r) => r.bare.burst.perSecond) },
          { name: 'textbook peer', values: results.map((r) => r.peer.burst.perSecond) },
          { name: 'Parley', values: results.map((r) => r.parley.burst.perSecond) },
        ],
      },
      {
        kind: 'bar',
        title: 'single message: time to first / last subscriber',
        unit: 'ms',
        categories,
        series: [
          { name: 'bare ws last', values: results.map((r) => median(r.bare.trials.map((t) => t.last))) },
          { name: 'Parley first', values: results.map((r) => median(r.parley.trials.map((t) => t.first))) },
          { name: 'Parley last', values: results.map((r) => median(r.parley.trials.map((t) => t.last))) },
        ],
      },
    ],
    details: results,
    notes: [
      `Subscribers alternate between instance A and instance B (graphql-ws clients in two receiver processes, one per instance); the sender is an extra participant posting over HTTP to A. MAX_PARTICIPANTS=${env.MAX_PARTICIPANTS}.`,
      `Single-message trials: ${trials} messages one at a time; the figure is the median of their "last subscriber" times. Burst: the messages are sent ${concurrency} at a time as fast as A accepts them; deliveries/s = deliveries ÷ (last arrival − first send).`,
      `Server work per delivery during the burst (both instances, from /metrics; includes the sends): ${results.map((r) => `group of ${r.n}: ${r.parley.perDelivery?.queries.toFixed(2)} SQL statements, ${r.parley.perDelivery?.cpuMs.toFixed(3)} ms CPU`).join('; ')}.`,
      'Peer: two textbook peer instances (bench/peers/textbook) sharing Redis, the same subscribers split the same way and the sender on the first.',
      'Baseline: two bare ws processes holding the same sockets (same split), each writing every event — serialized once — to all of its sockets in a loop; the frame is a real `messageAdded` payload captured from the Parley run.',
    ],
  };
};
