import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Scenario } from '../lib/context';
import { mergeTallies } from '../lib/fanout';
import { waitSubscribed, type LoadWorker, type SubscriberWorker } from '../lib/probe';
import { perUnit, serverCounters } from '../lib/prom';
import { figure, type Figure } from '../lib/results';
import { seedUsers, startConversations } from '../lib/seed';
import { median, sleep } from '../lib/stats';

/** What one build did in one round: CPU per delivery, and when its last subscriber had the messages. */
interface Round {
  cpuMsPerDelivery: number;
  delivered: number;
  /** ms from the first send of the round to the last arrival */
  lastMs: number;
}

/**
 * `npm run bench:compare -- --against DIR`: this build against the build of another checkout, on
 * the same events at the same time. One group conversation of N subscribers; the same N users
 * subscribe once on an instance of this build (X) and once on an instance of the other build (Y),
 * and a third instance (this build) takes the sends over HTTP, so X and Y deliver every message
 * together, under the same load of the machine. Notifications are off on all three, so that X and
 * Y do delivery work only. Reports each build's server CPU per delivery (from /metrics) and time
 * from a round's first send to its last arrival, round by round, and this build's ratio to the
 * other. A before/after of a delivery change measured as two runs minutes apart moves by ±25% on a
 * shared 2-core machine; measured side by side, both builds share every disturbance.
 */
export const compare: Scenario = async (ctx) => {
  const f = ctx.flags;
  const against = f.get('against');
  if (!against) throw new Error('give --against DIR: a checkout of Parley with its build (npm ci && npm run build)');
  const root = resolve(against);
  if (!existsSync(join(root, 'dist', 'src', 'main.js')))
    throw new Error(`${root}/dist/src/main.js is missing: run npm run build in ${root}`);
  const n = f.number('subscribers', 1000, 50);
  const rounds = f.number('rounds', 5, 2);
  const messages = f.number('messages', 100, 10);
  const concurrency = f.number('send-concurrency', 4);
  const singles = f.number('trials', 10, 2);

  const stack = await ctx.stack();
  const env = { MAX_PARTICIPANTS: String(n + 1), NOTIFICATIONS: 'off' };
  const sendsTo = await stack.start('S', env);
  const x = await stack.start('X', env);
  const y = await stack.start('Y', env, { root });
  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'compare-sender');
  const receivers: SubscriberWorker[] = [
    await ctx.worker('subscribers.worker.ts', 'compare-receivers-x'),
    await ctx.worker('subscribers.worker.ts', 'compare-receivers-y'),
  ];
  const [sender, ...subscribers] = await seedUsers(stack, 'cmp_', n + 1);
  const [conversationId] = await startConversations(sendsTo.url, [{ starter: sender, others: subscribers }]);
  await load.call('connect', {
    transport: 'http',
    httpUrl: sendsTo.url,
    wsUrl: sendsTo.wsUrl,
    senders: [{ token: sender.token, senderId: sender.id, conversationId }],
  });
  const specs = subscribers.map((u) => ({ token: u.token, conversationId, viewing: false }));
  for (const [receiver, instance] of [
    [receivers[0], x],
    [receivers[1], y],
  ] as const) {
    const opened = await receiver.call('open', {
      mode: 'graphql-ws',
      url: instance.wsUrl,
      receivers: specs,
      concurrency: 50,
    });
    if (opened.failed) throw new Error(`${opened.failed} subscribers of ${instance.name} failed: ${opened.firstError}`);
  }
  await waitSubscribed(load, receivers);
  ctx.log(
    `${n} subscribers on X (this build) and on Y (${root}); ${singles} single messages, then ${rounds} rounds of ${messages}`,
  );

  // One round first that is not measured: both builds' hot paths compiled before the rounds that count.
  const warmUp = await load.call('burst', { count: messages, concurrency });
  await Promise.all(
    receivers.map((rcv) =>
      rcv.call('waitSeqs', { conversationId, seqs: warmUp.sends.map((s) => s.seq), timeoutMs: 90_000 }),
    ),
  );
  await Promise.all(receivers.map((rcv) => rcv.call('reset', undefined)));

  // Single messages: when each build's first and last subscriber had it (ms after the send).
  const trials: Array<{ x: { first: number; last: number }; y: { first: number; last: number } }> = [];
  for (let t = 0; t < singles; t++) {
    const one = await load.call('burst', { count: 1, concurrency: 1 });
    if (!one.sends.length) throw new Error(`send failed: ${one.firstError}`);
    const { seq, sentAt } = one.sends[0];
    const got = await Promise.all(
      receivers.map((rcv) => rcv.call('waitSeqs', { conversationId, seqs: [seq], timeoutMs: 30_000 })),
    );
    const [gx, gy] = got.map((g) => mergeTallies([g]));
    trials.push({
      x: { first: gx.first - sentAt, last: gx.last - sentAt },
      y: { first: gy.first - sentAt, last: gy.last - sentAt },
    });
    await Promise.all(receivers.map((rcv) => rcv.call('reset', undefined)));
    await sleep(100);
  }

  const measured: Array<{ x: Round; y: Round }> = [];
  for (let r = 0; r < rounds; r++) {
    const before = await Promise.all([serverCounters([x]), serverCounters([y])]);
    const sent = await load.call('burst', { count: messages, concurrency });
    if (sent.errors) throw new Error(`${sent.errors} sends failed: ${sent.firstError}`);
    const start = Math.min(...sent.sends.map((s) => s.sentAt));
    const seqs = sent.sends.map((s) => s.seq);
    const got = await Promise.all(
      receivers.map((rcv) => rcv.call('waitSeqs', { conversationId, seqs, timeoutMs: 90_000 })),
    );
    const after = await Promise.all([serverCounters([x]), serverCounters([y])]);
    const [gx, gy] = got.map((g) => mergeTallies([g]));
    const round = (i: 0 | 1, g: { delivered: number; last: number }): Round => ({
      cpuMsPerDelivery: perUnit(before[i], after[i], g.delivered).cpuMs,
      delivered: g.delivered,
      lastMs: g.last - start,
    });
    measured.push({ x: round(0, gx), y: round(1, gy) });
    const m = measured[measured.length - 1];
    ctx.log(
      `  round ${r + 1}: CPU per delivery ${m.x.cpuMsPerDelivery.toFixed(4)} / ${m.y.cpuMsPerDelivery.toFixed(4)} ms, ` +
        `last arrival ${Math.round(m.x.lastMs)} / ${Math.round(m.y.lastMs)} ms (this build / other)`,
    );
    for (const [who, g] of [
      ['X', gx],
      ['Y', gy],
    ] as const)
      if (g.delivered !== messages * n) ctx.warn(`round ${r + 1}: ${who} delivered ${g.delivered} of ${messages * n}`);
    await Promise.all(receivers.map((rcv) => rcv.call('reset', undefined)));
    await sleep(200);
  }
  await Promise.all(receivers.map((rcv) => rcv.call('closeAll', undefined)));
  await load.call('close', undefined);

  const cpuRatios = measured.map((m) => m.x.cpuMsPerDelivery / m.y.cpuMsPerDelivery);
  const figures: Figure[] = [
    figure({
      label: `server CPU per delivery (median of ${rounds} rounds), group of ${n}`,
      unit: 'ms',
      value: median(measured.map((m) => m.x.cpuMsPerDelivery)),
      baseline: median(measured.map((m) => m.y.cpuMsPerDelivery)),
      baselineLabel: `the build of ${root}`,
    }),
    figure({
      label: `CPU per delivery, this build ÷ other, per round (median)`,
      unit: '×',
      value: median(cpuRatios),
      baseline: null,
      baselineLabel: '',
    }),
    ...(['first', 'last'] as const).map((which) =>
      figure({
        label: `time to the ${which} subscriber (single message, median of ${singles}), group of ${n}`,
        unit: 'ms',
        value: median(trials.map((t) => t.x[which])),
        baseline: median(trials.map((t) => t.y[which])),
        baselineLabel: `the build of ${root}`,
      }),
    ),
    figure({
      label: `first send → last arrival of a round of ${messages} (median), group of ${n}`,
      unit: 'ms',
      value: median(measured.map((m) => m.x.lastMs)),
      baseline: median(measured.map((m) => m.y.lastMs)),
      baselineLabel: `the build of ${root}`,
    }),
  ];
  return {
    title: 'Compare two builds',
    options: { against: root, subscribers: n, rounds, messages, sendConcurrency: concurrency },
    figures,
    charts: [],
    details: { trials, rounds: measured, cpuRatios },
    notes: [
      'X runs this build, Y the other one; both hold the same subscribers of one conversation and deliver the same messages at the same time. The sends go over HTTP to a third instance (this build). NOTIFICATIONS=off on all three.',
    ],
  };
};
