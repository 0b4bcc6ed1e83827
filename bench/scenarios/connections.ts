import { join } from 'node:path';
import { SendMessageDocument } from '../../src/client/generated';
import type { Scenario } from '../lib/context';
import { gqlHttp } from '../lib/graphql';
import { collectGarbage, memoryAfterGc, writeHeapSnapshot } from '../lib/inspector';
import type { SubscriberWorker } from '../lib/probe';
import { promValue, type PromSamples } from '../lib/prom';
import { figure } from '../lib/results';
import { seedPairConversations, seedUsers, type BenchUser } from '../lib/seed';
import { linearFit, sleep } from '../lib/stats';
import type { LineChart } from '../lib/svg';
import type { handlers as BareHandlers } from '../workers/bare-ws.worker';

/** Memory of the server process after a step. */
interface Point {
  connections: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** connections per second while this step was opened */
  setupRate: number;
  /** the server's CPU (user + system) per connection opened in this step, ms; NaN when not read */
  setupCpuMs: number;
}

/**
 * Every client closes at once (a load balancer draining them, a fleet of apps restarting): the
 * time until the instance has let go of every connection (sockets counted out, Redis topics left,
 * presence written: no Redis command left unanswered), its CPU for that per connection, and its
 * longest event-loop stall meanwhile (the max of prom-client's histogram over the scrapes, each
 * of which resets it).
 */
async function massDisconnect(
  a: { metrics(): Promise<PromSamples> },
  receivers: readonly SubscriberWorker[],
  ownTopics: number,
): Promise<{ ms: number; cpuMsPerConnection: number; stallMs: number }> {
  const before = await a.metrics();
  const connections = promValue(before, 'parley_ws_connections');
  const from = { cpu: promValue(before, 'parley_process_cpu_seconds_total'), at: performance.now() };
  await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));
  let stallMs = 0;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = await a.metrics();
    stallMs = Math.max(stallMs, promValue(m, 'parley_nodejs_eventloop_lag_max_seconds') * 1000);
    if (
      promValue(m, 'parley_ws_connections') === 0 &&
      promValue(m, 'parley_pubsub_topics') <= ownTopics &&
      promValue(m, 'parley_redis_command_queue') === 0
    ) {
      const ms = performance.now() - from.at;
      const cpuMs = (promValue(m, 'parley_process_cpu_seconds_total') - from.cpu) * 1000;
      return { ms, cpuMsPerConnection: cpuMs / Math.max(1, connections), stallMs };
    }
    if (Date.now() > deadline) throw new Error('the instance still held connections 120 s after every client closed');
    await sleep(100);
  }
}

/** How a series grows: bytes per connection from the least-squares slope, and the fit's r². */
function growth(points: Point[], pick: (p: Point) => number) {
  const fit = linearFit(points.map((p) => [p.connections, pick(p)] as const));
  return { bytesPerConnection: fit.slope, r2: fit.r2 };
}

/** Opens `total` receivers in steps, half in each receiver process, reading memory after each step. */
async function ramp(
  receivers: SubscriberWorker[],
  mode: 'graphql-ws' | 'raw',
  url: string,
  users: BenchUser[],
  step: number,
  openConcurrency: number,
  settleMs: number,
  ready: (connections: number) => Promise<void>,
  memory: () => Promise<{ rss: number; heapUsed: number }>,
  log: (s: string) => void,
  cpuSeconds?: () => Promise<number>,
): Promise<Point[]> {
  await sleep(settleMs);
  const m0 = await memory();
  const points: Point[] = [
    { connections: 0, rssBytes: m0.rss, heapUsedBytes: m0.heapUsed, setupRate: Number.NaN, setupCpuMs: Number.NaN },
  ];
  for (let opened = 0; opened < users.length;) {
    const n = Math.min(step, users.length - opened);
    const specs = users.slice(opened, opened + n).map((u) => ({ token: u.token, conversationId: null }));
    const cpuFrom = cpuSeconds ? await cpuSeconds() : Number.NaN;
    const started = performance.now();
    const results = await Promise.all(
      receivers.map((r, half) =>
        r.call('open', {
          mode,
          url,
          receivers: specs.filter((_, i) => i % 2 === half),
          concurrency: Math.ceil(openConcurrency / receivers.length),
        }),
      ),
    );
    const failed = results.reduce((s, r) => s + r.failed, 0);
    if (failed)
      throw new Error(`${failed} connections failed at ${opened}: ${results.map((r) => r.firstError).join('; ')}`);
    opened += n;
    await ready(opened);
    const elapsed = performance.now() - started;
    const setupCpuMs = cpuSeconds ? (((await cpuSeconds()) - cpuFrom) * 1000) / n : Number.NaN;
    await sleep(settleMs);
    const m = await memory();
    points.push({
      connections: opened,
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      setupRate: (n * 1000) / elapsed,
      setupCpuMs,
    });
    log(
      `  ${opened} connections: RSS ${(m.rss / 2 ** 20).toFixed(0)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB, ${Math.round((n * 1000) / elapsed)} conn/s` +
        (Number.isNaN(setupCpuMs) ? '' : `, ${setupCpuMs.toFixed(2)} ms of server CPU per connection`),
    );
  }
  return points;
}

/**
 * 4. Connections: idle authenticated graphql-ws connections, each holding one `messageAdded`
 * subscription (over all of its user's conversations; every user has one direct conversation),
 * opened in steps up to `--connections`. After each step the server's RSS and heap are read from
 * `/metrics`; growth per connection is the least-squares slope. Baseline: a bare `ws` server
 * holding the same number of sockets (connection_init acknowledged, nothing else kept).
 */
export const connections: Scenario = async (ctx) => {
  const f = ctx.flags;
  const total = f.number('connections', 10_000, 400);
  const step = f.number('step', 1000, 100);
  const settleMs = f.number('settle', 0.5, 0.3) * 1000;
  const openConcurrency = f.number('open-concurrency', 64);
  const idleMs = f.number('idle', 30, 6) * 1000;
  const snapshots = f.get('heap-snapshots');

  const stack = await ctx.stack();
  const a = await stack.start('A', {}, { inspect: true });
  ctx.log(`seeding ${total} users and ${Math.ceil(total / 2)} direct conversations`);
  const users = await seedUsers(stack, 'conn', total + (total % 2));
  const pairs = Array.from({ length: users.length / 2 }, (_, i) => [users[2 * i], users[2 * i + 1]] as const);
  const conversationIds = await seedPairConversations(stack, pairs);
  const receivers: SubscriberWorker[] = [
    await ctx.worker('subscribers.worker.ts', 'connections-1', { maxOldSpaceMb: 4096 }),
    await ctx.worker('subscribers.worker.ts', 'connections-2', { maxOldSpaceMb: 4096 }),
  ];

  /** Topics the instance listens on with no connection (its own: notification batches, revocations, ...). */
  const ownTopics = promValue(await a.metrics(), 'parley_pubsub_topics');
  ctx.log(`Parley: ${total} connections with one messageAdded subscription each, in steps of ${step}`);
  // Set up = topics subscribed and positions read: parley_message_streams when the server has that
  // gauge, else the subscriptions started (counted before their set-up runs).
  const subscriptions = async () => {
    const m = await a.metrics();
    return [...m.keys()].some((k) => k.startsWith('parley_message_streams'))
      ? promValue(m, 'parley_message_streams')
      : promValue(m, 'parley_graphql_operations_total', { transport: 'ws', type: 'subscription' });
  };
  const parley = await ramp(
    receivers,
    'graphql-ws',
    a.wsUrl,
    users.slice(0, total),
    step,
    openConcurrency,
    settleMs,
    async (expected) => {
      const deadline = Date.now() + 30_000;
      while ((await subscriptions()) < expected) {
        if (Date.now() > deadline) throw new Error(`the server counted fewer than ${expected} subscriptions`);
        await sleep(50);
      }
    },
    async () => {
      await collectGarbage(a.inspectorUrl!);
      if (snapshots)
        await writeHeapSnapshot(a.inspectorUrl!, join(snapshots, `parley-${await subscriptions()}.heapsnapshot`));
      const m = await a.metrics();
      return {
        rss: promValue(m, 'parley_process_resident_memory_bytes'),
        heapUsed: promValue(m, 'parley_nodejs_heap_size_used_bytes'),
      };
    },
    ctx.log,
    async () => promValue(await a.metrics(), 'parley_process_cpu_seconds_total'),
  );
  // Are the subscriptions alive? A few messages must reach the partner's socket.
  const checks = Math.min(5, pairs.length);
  for (let i = 0; i < checks; i++) {
    await gqlHttp(
      a.url,
      SendMessageDocument,
      { input: { conversationId: conversationIds[i], body: `m:${Date.now()}` } },
      pairs[i][0].token,
    );
  }
  await sleep(1000);
  const stats = await Promise.all(receivers.map((r) => r.call('stats', undefined)));
  const delivered = stats.reduce((s, r) => s + r.received, 0);
  if (delivered !== checks) ctx.warn(`liveness check: ${delivered} of ${checks} messages reached the idle subscribers`);
  // Idle CPU: nothing is sent; the instance runs only its background work (keep-alive sweeps,
  // presence heartbeats, the sessions re-validation and the messages tail check over every
  // subscribed conversation).
  // A scrape resets prom-client's event-loop delay histogram, so the second one's max is the
  // longest stall within the idle interval.
  const idleFrom = { cpu: promValue(await a.metrics(), 'parley_process_cpu_seconds_total'), at: performance.now() };
  await sleep(idleMs);
  const idleEnd = await a.metrics();
  const idleCpuPercent =
    ((100 * (promValue(idleEnd, 'parley_process_cpu_seconds_total') - idleFrom.cpu)) /
      (performance.now() - idleFrom.at)) *
    1000;
  const idleStallMs = promValue(idleEnd, 'parley_nodejs_eventloop_lag_max_seconds') * 1000;
  ctx.log(
    `  idle for ${idleMs / 1000} s: ${idleCpuPercent.toFixed(2)}% of a core, longest event-loop stall ${idleStallMs.toFixed(0)} ms`,
  );
  const teardown = await massDisconnect(a, receivers, ownTopics);
  ctx.log(
    `  mass disconnect: let go of all in ${teardown.ms.toFixed(0)} ms, ${teardown.cpuMsPerConnection.toFixed(3)} ms of CPU per connection, longest stall ${teardown.stallMs.toFixed(0)} ms`,
  );
  await stack.stopInstances();

  ctx.log(`textbook peer: ${total} connections with one messageAdded subscription each`);
  const peerServer = await stack.startPeer('peer', {}, { inspect: true });
  // The peer counts nothing: a step is done when every socket is acknowledged (its subscribe sent).
  const peer = await ramp(
    receivers,
    'graphql-ws',
    peerServer.wsUrl,
    users.slice(0, total),
    step,
    openConcurrency,
    settleMs,
    () => Promise.resolve(),
    () => memoryAfterGc(peerServer.inspectorUrl!),
    ctx.log,
  );
  await peerServer.kill();
  await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));

  ctx.log(`baseline: ${total} bare ws connections`);
  const bare = await ctx.worker<typeof BareHandlers>('bare-ws.worker.ts', 'bare-ws', { execArgv: ['--expose-gc'] });
  const { port } = await bare.call('listen', undefined);
  const baseline = await ramp(
    receivers,
    'raw',
    `ws://127.0.0.1:${port}`,
    users.slice(0, total),
    step,
    openConcurrency,
    settleMs,
    async (expected) => {
      while ((await bare.call('count', undefined)) < expected) await sleep(20);
    },
    () => bare.call('memory', undefined),
    ctx.log,
  );
  await Promise.all(receivers.map((r) => r.call('closeAll', undefined)));
  await bare.call('close', undefined);

  const rss = growth(parley, (p) => p.rssBytes);
  const heap = growth(parley, (p) => p.heapUsedBytes);
  const bareRss = growth(baseline, (p) => p.rssBytes);
  const bareHeap = growth(baseline, (p) => p.heapUsedBytes);
  const peerRss = growth(peer, (p) => p.rssBytes);
  const peerHeap = growth(peer, (p) => p.heapUsedBytes);
  const setup = (points: Point[]) => {
    const measured = points.filter((p) => Number.isFinite(p.setupRate));
    return measured.reduce((s, p) => s + p.setupRate, 0) / measured.length;
  };
  const setupCpu = (points: Point[]) => {
    const measured = points.filter((p) => Number.isFinite(p.setupCpuMs));
    return measured.reduce((s, p) => s + p.setupCpuMs, 0) / measured.length;
  };
  const mibPer1000 = (bytesPerConnection: number) => (bytesPerConnection * 1000) / 2 ** 20;
  const rssRatio = rss.bytesPerConnection / bareRss.bytesPerConnection;
  const heapRatio = heap.bytesPerConnection / bareHeap.bytesPerConnection;
  const lines = (title: string, unit: string, pick: (p: Point) => number, skipZero = false): LineChart => ({
    kind: 'line',
    title,
    unit,
    xLabel: 'connections',
    series: [
      {
        name: 'bare ws baseline',
        points: baseline.filter((p) => !skipZero || p.connections > 0).map((p) => [p.connections, pick(p)]),
      },
      {
        name: 'textbook peer',
        points: peer.filter((p) => !skipZero || p.connections > 0).map((p) => [p.connections, pick(p)]),
      },
      {
        name: 'Parley',
        points: parley.filter((p) => !skipZero || p.connections > 0).map((p) => [p.connections, pick(p)]),
      },
    ],
  });
  return {
    title: '4. Connections',
    options: { total, step, settleMs, openConcurrency, idleMs },
    figures: [
      figure({
        label: 'RSS growth per 1,000 subscribed connections',
        unit: 'MiB',
        value: mibPer1000(rss.bytesPerConnection),
        baseline: mibPer1000(bareRss.bytesPerConnection),
        baselineLabel: 'bare ws',
        peer: mibPer1000(peerRss.bytesPerConnection),
        target: { text: 'ratio ≤ 2', met: rssRatio <= 2 },
      }),
      figure({
        label: 'heap growth per 1,000 subscribed connections',
        unit: 'MiB',
        value: mibPer1000(heap.bytesPerConnection),
        baseline: mibPer1000(bareHeap.bytesPerConnection),
        baselineLabel: 'bare ws',
        peer: mibPer1000(peerHeap.bytesPerConnection),
        target: { text: 'ratio ≤ 2', met: heapRatio <= 2 },
      }),
      figure({
        label: `connections held`,
        unit: 'connections',
        value: parley[parley.length - 1].connections,
        baseline: baseline[baseline.length - 1].connections,
        baselineLabel: 'bare ws',
      }),
      figure({
        label: `idle CPU holding ${total} subscriptions over ${conversationIds.length} conversations`,
        unit: '% of a core',
        value: idleCpuPercent,
        baseline: null,
        target: { text: '< 1%', met: idleCpuPercent < 1 },
      }),
      figure({
        label: `longest event-loop stall while idle, holding ${total} subscriptions`,
        unit: 'ms',
        value: idleStallMs,
        baseline: null,
      }),
      figure({
        label: `mass disconnect: time until the instance let go of all ${total} connections`,
        unit: 'ms',
        value: teardown.ms,
        baseline: null,
      }),
      figure({
        label: 'mass disconnect: server CPU per connection closed',
        unit: 'ms',
        value: teardown.cpuMsPerConnection,
        baseline: null,
      }),
      figure({
        label: `longest event-loop stall during the mass disconnect`,
        unit: 'ms',
        value: teardown.stallMs,
        baseline: null,
      }),
      figure({
        label: 'connection set-up rate (connect, ack, subscribe)',
        unit: 'conn/s',
        value: setup(parley),
        baseline: setup(baseline),
        baselineLabel: 'bare ws',
        peer: setup(peer),
      }),
    ],
    charts: [
      lines('server RSS', 'MiB', (p) => p.rssBytes / 2 ** 20),
      lines('server heap used', 'MiB', (p) => p.heapUsedBytes / 2 ** 20),
      lines('connection set-up rate', 'conn/s', (p) => p.setupRate, true),
    ],
    details: {
      /** Parley's CPU per connection set up (ms), averaged over the steps: less noisy than the rate on a shared machine. */
      setupCpuMsPerConnection: setupCpu(parley),
      parley,
      peer,
      baseline,
      fits: { rss, heap, bareRss, bareHeap, peerRss, peerHeap },
      liveness: { sent: checks, delivered },
    },
    notes: [
      `Each connection is its own user (seeded with a session and token), sends connection_init with the token and subscribes to \`messageAdded\` without arguments; every user has one direct conversation, so the server follows two topics per subscription. Opened ${openConcurrency} at a time, in steps of ${step}; memory read ${settleMs / 1000} s after each step.`,
      `Growth per 1,000 is the least-squares slope over all steps (r²: Parley RSS ${rss.r2.toFixed(3)}, heap ${heap.r2.toFixed(3)}; bare RSS ${bareRss.r2.toFixed(3)}, heap ${bareHeap.r2.toFixed(3)}); memory is read after a full GC in both (Parley through its --inspect DevTools port, the bare server with --expose-gc).`,
      `Liveness check after the ramp: ${delivered} of ${checks} messages sent over HTTP reached the partner's idle subscription.`,
      `Idle CPU: the instance's parley_process_cpu_seconds_total over ${idleMs / 1000} s with nothing sent after the liveness check (keep-alive, presence heartbeats, sessions re-validation every SESSION_CACHE_MS, messages tail check every MESSAGE_TAIL_CHECK_MS over all ${conversationIds.length} subscribed conversations). The longest event-loop stall over that interval is parley_nodejs_eventloop_lag_max_seconds (perf_hooks.monitorEventLoopDelay, reset by each scrape): a live event arriving then waits that long.`,
      'Peer: one textbook peer instance (bench/peers/textbook, started with --inspect) holding the same connections; its memory is process.memoryUsage() after two full GCs through DevTools. It counts nothing, so its set-up rate runs until every socket is acknowledged and its subscribe sent: slightly in its favour.',
      'Set-up rate: connections per second from the start of a step until the server has set up all of its subscriptions (TCP + WebSocket upgrade + connection_init/ack + subscribe; for Parley until parley_message_streams, or the subscription counter, reaches the count), averaged over the steps.',
      `Set-up CPU: Parley's parley_process_cpu_seconds_total over the same interval per connection opened, averaged over the steps: ${setupCpu(parley).toFixed(2)} ms (it includes the /metrics reads that poll for the count every 50 ms).`,
    ],
  };
};
