import type { Scenario } from '../lib/context';
import type { OpenLoopResult } from '../lib/load';
import { waitSubscribed, type LoadWorker, type SubscriberWorker } from '../lib/probe';
import type { ParleyProcess } from '../lib/parley-process';
import { perUnit, serverCounters } from '../lib/prom';
import { figure } from '../lib/results';
import { seedPairs } from '../lib/seed';
import type { LatencySummary } from '../lib/stats';
import type { handlers as RelayHandlers } from '../workers/bare-relay.worker';

/** One offered load, measured. */
interface Step {
  rate: number;
  send: OpenLoopResult;
  received: number;
  outOfOrder: number;
  latency: LatencySummary;
  errors: string[];
  /** server CPU and SQL statements per message, both instances (Parley only) */
  perMessage?: { cpuMs: number; queries: number };
}

/**
 * Runs the offered loads: for each rate, open-loop sends for `durationMs`, then waits (up to
 * `drainMs`) for every accepted message to reach its receiver.
 */
async function runSteps(
  load: LoadWorker,
  receivers: SubscriberWorker,
  servers: ParleyProcess[],
  rates: number[],
  durationMs: number,
  drainMs: number,
  log: (s: string) => void,
): Promise<Step[]> {
  const steps: Step[] = [];
  for (const rate of rates) {
    await receivers.call('reset', undefined);
    const before = servers.length ? await serverCounters(servers) : null;
    const send = await load.call('openLoop', { rate, durationMs });
    const got = await receivers.call('waitTotal', { expected: send.ok, timeoutMs: drainMs });
    const perMessage = before ? perUnit(before, await serverCounters(servers), send.ok) : undefined;
    log(
      `  ${rate} msg/s: ${send.ok}/${send.scheduled} sent, ${got.received} received, p50 ${got.latency.p50.toFixed(1)} ms, p99 ${got.latency.p99.toFixed(1)} ms`,
    );
    steps.push({
      rate,
      send,
      received: got.received,
      outOfOrder: got.outOfOrder,
      latency: got.latency,
      errors: got.errors,
      perMessage,
    });
  }
  return steps;
}

/**
 * 2. End-to-end latency: a fixed offered load over many direct conversations, sent through
 * instance A (graphql-ws by default), received by subscribers on instance B; latency from the
 * intended send time to arrival. Baseline: the same path without GraphQL or an ORM (bare ws
 * ingress → node-postgres same statement → Redis PUBLISH of a pre-serialized frame → bare ws
 * egress), at the same loads.
 */
export const e2e: Scenario = async (ctx) => {
  const f = ctx.flags;
  const rates = f.numbers('rate', [100, 250, 500], [50]);
  const durationMs = f.number('duration', 10, 2) * 1000;
  const drainMs = f.number('drain', 10, 3) * 1000;
  const conversations = f.number('conversations', 100, 10);
  const transport = (f.get('transport') ?? 'ws') as 'ws' | 'http';
  const poolSize = f.number('pool', 10);
  const pipeline = f.number('pipeline', 4);

  const stack = await ctx.stack();
  const instanceEnv = { DB_POOL_SIZE: String(poolSize), DB_PIPELINE_CONNECTIONS: String(pipeline) };
  const a = await stack.start('A', instanceEnv);
  const b = await stack.start('B', instanceEnv);
  const { senders, receivers: receiverSpecs } = await seedPairs(stack, a.url, 'e2e', conversations);

  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'e2e-senders');
  const receivers: SubscriberWorker = await ctx.worker('subscribers.worker.ts', 'e2e-receivers');

  ctx.log(`Parley: ${conversations} senders on A (${transport}), ${conversations} subscribers on B`);
  await load.call('connect', { transport, httpUrl: a.url, wsUrl: a.wsUrl, senders });
  // Each receiver has its conversation open (setActiveConversation, as the web client does), so
  // Parley notifies none of them; bench:notifications measures notifying recipients.
  const viewing = receiverSpecs.map((r) => ({ ...r, viewing: true }));
  await receivers.call('open', { mode: 'graphql-ws', url: b.wsUrl, receivers: viewing, concurrency: 50 });
  await waitSubscribed(load, [receivers]);
  const parley = await runSteps(load, receivers, [a, b], rates, durationMs, drainMs, ctx.log);
  await load.call('close', undefined);
  await receivers.call('closeAll', undefined);

  ctx.log(`textbook peer: the same senders on peer A (${transport}), subscribers on peer B`);
  const peerA = await stack.startPeer('peer-A', { DB_POOL_SIZE: String(poolSize) });
  const peerB = await stack.startPeer('peer-B', { DB_POOL_SIZE: String(poolSize) });
  await load.call('connect', { transport, httpUrl: peerA.url, wsUrl: peerA.wsUrl, senders });
  await receivers.call('open', { mode: 'graphql-ws', url: peerB.wsUrl, receivers: receiverSpecs, concurrency: 50 });
  await waitSubscribed(load, [receivers]);
  // the figures read the headline (last) rate only: the peer runs that one, to keep the run short
  const peer = await runSteps(load, receivers, [], rates.slice(-1), durationMs, drainMs, ctx.log);
  await load.call('close', undefined);
  await receivers.call('closeAll', undefined);

  ctx.log('baseline: bare ws → node-postgres → Redis → bare ws');
  const ingress = await ctx.worker<typeof RelayHandlers>('bare-relay.worker.ts', 'relay-ingress');
  const egress = await ctx.worker<typeof RelayHandlers>('bare-relay.worker.ts', 'relay-egress');
  const channelPrefix = `${stack.redisPrefix}relay.`;
  const { port: inPort } = await ingress.call('ingress', {
    databaseUrl: stack.databaseUrl,
    poolSize,
    redisUrl: stack.redisUrl,
    channelPrefix,
  });
  const { port: outPort } = await egress.call('egress', { redisUrl: stack.redisUrl, channelPrefix });
  await load.call('connect', { transport: 'raw', httpUrl: '', wsUrl: `ws://127.0.0.1:${inPort}`, senders });
  await receivers.call('open', {
    mode: 'raw',
    url: `ws://127.0.0.1:${outPort}`,
    receivers: receiverSpecs,
    concurrency: 50,
  });
  await waitSubscribed(load, [receivers]);
  const baseline = await runSteps(load, receivers, [], rates, durationMs, drainMs, ctx.log);
  await load.call('close', undefined);
  await receivers.call('closeAll', undefined);
  await ingress.call('close', undefined);
  await egress.call('close', undefined);

  for (const s of parley) {
    if (s.send.errors) ctx.warn(`${s.send.errors} failed sends at ${s.rate} msg/s: ${s.send.firstError}`);
    if (s.received !== s.send.ok)
      ctx.warn(`${s.send.ok - s.received} of ${s.send.ok} messages not received at ${s.rate} msg/s`);
    if (s.outOfOrder) ctx.warn(`${s.outOfOrder} messages out of order or repeated at ${s.rate} msg/s`);
    if (s.send.maxLagMs > 50)
      ctx.warn(`the load generator fired up to ${Math.round(s.send.maxLagMs)} ms late at ${s.rate} msg/s`);
  }
  const top = parley[parley.length - 1];
  const topBase = baseline[baseline.length - 1];
  const topPeer = peer[peer.length - 1];
  const allArrived = top.received === top.send.scheduled && top.send.errors === 0;
  const label = (what: string) => `${what} at ${top.rate} msg/s, A → B`;
  return {
    title: '2. End-to-end latency',
    options: { rates, durationMs, conversations, transport, poolSize, pipeline },
    figures: [
      figure({
        label: label('e2e p50'),
        unit: 'ms',
        value: top.latency.p50,
        baseline: topBase.latency.p50,
        baselineLabel: 'bare relay',
        peer: topPeer.latency.p50,
      }),
      figure({
        label: label('e2e p95'),
        unit: 'ms',
        value: top.latency.p95,
        baseline: topBase.latency.p95,
        baselineLabel: 'bare relay',
        peer: topPeer.latency.p95,
      }),
      figure({
        label: label('e2e p99'),
        unit: 'ms',
        value: top.latency.p99,
        baseline: topBase.latency.p99,
        baselineLabel: 'bare relay',
        peer: topPeer.latency.p99,
        target: { text: `≤ 25 ms${top.rate === 500 ? '' : ' (target is at 500 msg/s)'}`, met: top.latency.p99 <= 25 },
      }),
      figure({
        label: label('delivered'),
        unit: 'msgs',
        value: top.received,
        baseline: top.send.scheduled,
        baselineLabel: 'offered',
        peer: topPeer.received,
        target: { text: 'all of them', met: allArrived },
      }),
    ],
    charts: [
      {
        kind: 'line',
        title: 'latency send → receipt',
        unit: 'ms',
        xLabel: 'offered load (msg/s)',
        series: [
          { name: 'bare relay p99', points: baseline.map((s) => [s.rate, s.latency.p99]) },
          { name: 'peer p99', points: peer.map((s) => [s.rate, s.latency.p99]) },
          { name: 'Parley p50', points: parley.map((s) => [s.rate, s.latency.p50]) },
          { name: 'Parley p95', points: parley.map((s) => [s.rate, s.latency.p95]) },
          { name: 'Parley p99', points: parley.map((s) => [s.rate, s.latency.p99]) },
        ],
      },
      {
        kind: 'line',
        title: 'delivered throughput',
        unit: 'msg/s',
        xLabel: 'offered load (msg/s)',
        series: [
          { name: 'bare relay', points: baseline.map((s) => [s.rate, (s.received * 1000) / durationMs]) },
          { name: 'Parley', points: parley.map((s) => [s.rate, (s.received * 1000) / durationMs]) },
        ],
      },
      {
        kind: 'bar',
        title: 'sendMessage response time (A)',
        unit: 'ms',
        categories: parley.map((s) => `${s.rate}/s`),
        series: [
          { name: 'bare relay p99', values: baseline.map((s) => s.send.latency.p99) },
          { name: 'Parley p50', values: parley.map((s) => s.send.latency.p50) },
          { name: 'Parley p99', values: parley.map((s) => s.send.latency.p99) },
        ],
      },
    ],
    details: { parley, peer, baseline },
    notes: [
      `Open loop: message k is due at start + k/rate whatever the earlier ones did, round-robin over ${conversations} direct conversations, ${durationMs / 1000} s per load; latency is measured from the due time (so load-generator lag counts against the server, not for it).`,
      `Senders hold graphql-ws connections to A (${transport}); each receiver holds one graphql-ws connection to B subscribed to \`messageAdded(conversationId)\`. Sender and receiver are separate processes; both read the same wall clock.`,
      `Server work per message on A and B together (from /metrics): ${parley.map((s) => `${s.rate}/s: ${s.perMessage?.queries.toFixed(1)} SQL statements, ${s.perMessage?.cpuMs.toFixed(2)} ms CPU`).join('; ')}.`,
      `Peer: the same senders and subscribers on two textbook peer instances (bench/peers/textbook) sharing Redis, senders on the first, at ${rates[rates.length - 1]} msg/s only.`,
      'Baseline: the same route with the framework removed — a bare ws server runs the same INSERT via node-postgres and PUBLISHes one pre-serialized frame on Redis; a second bare ws server forwards it to the subscribed socket.',
    ],
  };
};
