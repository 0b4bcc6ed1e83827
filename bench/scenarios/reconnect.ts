import type { Scenario, ScenarioContext } from '../lib/context';
import type { BareWorker } from '../lib/fanout';
import type { ParleyProcess } from '../lib/parley-process';
import type { LoadWorker } from '../lib/probe';
import { perUnit, serverCounters } from '../lib/prom';
import { figure } from '../lib/results';
import { seedUsers, startConversations } from '../lib/seed';
import { wallNow } from '../lib/stats';
import type { WorkerProcess } from '../lib/workers';
import type { handlers as StormHandlers, StormSpec } from '../workers/storm-clients.worker';

type StormWorker = WorkerProcess<typeof StormHandlers>;

/** What one storm measured. */
interface StormRun {
  clients: number;
  reconnected: number;
  resumed: number;
  /** ms from the kill to the last client's reconnect (acknowledged) and resume */
  toReconnectedMs: number;
  toResumedMs: number;
  errors: string[];
}

/** Opens the clients over the storm processes (client i in process i mod their number). */
async function openClients(
  ctx: ScenarioContext,
  workers: StormWorker[],
  mode: 'graphql-ws' | 'raw',
  url: string,
  specs: StormSpec[],
  concurrency: number,
): Promise<void> {
  const results = await Promise.all(
    workers.map((w, k) =>
      w.call('open', { mode, url, clients: specs.filter((_, i) => i % workers.length === k), concurrency }),
    ),
  );
  for (const r of results) if (r.failed) throw new Error(`${r.failed} clients failed to connect: ${r.firstError}`);
  ctx.log(
    `  ${specs.length} clients connected (${mode}) in ${Math.round(Math.max(...results.map((r) => r.elapsedMs)))} ms`,
  );
}

/** Kills the holder at wall time t0 (via `kill`) and waits until every client has resumed elsewhere. */
async function storm(workers: StormWorker[], kill: () => Promise<void>, timeoutMs: number): Promise<StormRun> {
  const t0 = wallNow();
  await kill();
  const parts = await Promise.all(workers.map((w) => w.call('waitResumed', { timeoutMs })));
  const sum = (pick: (p: (typeof parts)[number]) => number) => parts.reduce((s, p) => s + pick(p), 0);
  const last = (pick: (p: (typeof parts)[number]) => number) => Math.max(...parts.map(pick)) - t0;
  return {
    clients: sum((p) => p.clients),
    reconnected: sum((p) => p.reconnected),
    resumed: sum((p) => p.resumed),
    toReconnectedMs: last((p) => p.lastReconnectedAt),
    toResumedMs: last((p) => p.lastResumedAt),
    errors: parts.flatMap((p) => p.errors),
  };
}

/** The seq of each conversation after a round: the round's own seqs. */
const seqsOf = (sends: Array<{ conversationId: string; seq: number }>) =>
  Object.fromEntries(sends.map((s) => [s.conversationId, s.seq]));

/**
 * 8. Reconnect storm: N clients (one graphql-ws socket each, one `messageAdded` subscription over
 * their group conversation) on instance B while messages flow (senders on a third instance C);
 * then B stops (SIGSTOP) while one more message goes to every conversation, and is killed
 * (SIGKILL): every client reconnects to A and subscribes again with `after` positions, the seq it
 * last received. Measures the time from the kill until every client has reconnected and has every
 * message up to the last one sent, A's statements and CPU per reconnected client, and checks every
 * client for gaps and duplicates. Baseline: the same clients as bare `ws` sockets on a bare
 * server, killed, reconnecting to another bare server that answers each subscribe with one frame.
 */
export const reconnect: Scenario = async (ctx) => {
  const f = ctx.flags;
  const n = f.number('clients', Number(process.env.BENCH_RECONNECT_CLIENTS ?? 10_000), 200);
  const groupSize = f.number('group', 10);
  const rate = f.number('rate', 200, 50);
  const flowMs = f.number('flow', 3, 1) * 1000;
  const concurrency = f.number('reconnect-concurrency', 256);
  const openConcurrency = f.number('open-concurrency', 64);
  const timeoutMs = f.number('storm-timeout', 120) * 1000;
  const groups = Math.ceil(n / groupSize);

  const stack = await ctx.stack();
  const a = await stack.start('A');
  const b = await stack.start('B');
  const c = await stack.start('C');
  const members = await seedUsers(stack, 'storm', n);
  const senderUsers = await seedUsers(stack, 'stormsend', groups);
  ctx.log(`starting ${groups} groups of ${groupSize} (+ a sender each)`);
  const conversationIds = await startConversations(
    c.url,
    senderUsers.map((starter, g) => ({ starter, others: members.slice(g * groupSize, (g + 1) * groupSize) })),
  );
  const specs: StormSpec[] = members.map((u, i) => ({
    token: u.token,
    conversationIds: [conversationIds[Math.floor(i / groupSize)]],
  }));
  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'storm-senders');
  const workers: StormWorker[] = [
    await ctx.worker('storm-clients.worker.ts', 'storm-clients-1', { maxOldSpaceMb: 1024 }),
    await ctx.worker('storm-clients.worker.ts', 'storm-clients-2', { maxOldSpaceMb: 1024 }),
  ];

  /** One storm over graphql-ws: clients on `hold`, senders on `sender`, failover to `failover`. */
  const graphqlStorm = async (
    who: string,
    hold: ParleyProcess,
    failover: ParleyProcess,
    sender: ParleyProcess,
    counted: ParleyProcess[],
  ) => {
    await load.call('connect', {
      transport: 'http',
      httpUrl: sender.url,
      wsUrl: sender.wsUrl,
      senders: senderUsers.map((u, g) => ({ token: u.token, senderId: u.id, conversationId: conversationIds[g] })),
    });
    ctx.log(`${who}: ${n} clients on ${hold.name}`);
    await openClients(ctx, workers, 'graphql-ws', hold.wsUrl, specs, openConcurrency);
    // Every subscription is live once a round reached every client (`after` replays what a late one
    // missed). A server without replay (the peer) never delivers a round to a subscription that was
    // not live yet: another round reaches it.
    for (let attempt = 1; ; attempt++) {
      const ready = await load.call('round', { concurrency: 16 });
      if (ready.errors) throw new Error(`${ready.errors} sends failed: ${ready.firstError}`);
      const live = await Promise.all(
        workers.map((w) =>
          w.call('waitCaughtUp', { targets: seqsOf(ready.sends), timeoutMs: attempt === 1 ? 60_000 : 20_000 }),
        ),
      );
      const behind = live.reduce((sum, l) => sum + l.of - l.done, 0);
      if (behind === 0) break;
      if (attempt === 3) throw new Error(`clients not caught up before the storm: ${JSON.stringify(live)}`);
      ctx.warn(
        `${who}: ${behind} clients missed round ${attempt} (their subscriptions were not live yet); another round`,
      );
    }
    ctx.log(`  messages flowing at ${rate} msg/s for ${flowMs / 1000} s`);
    const flow = await load.call('openLoop', { rate, durationMs: flowMs });
    if (flow.errors) ctx.warn(`${who}: ${flow.errors} failed sends while flowing: ${flow.firstError}`);
    hold.pause();
    const gap = await load.call('round', { concurrency: 16 });
    if (gap.errors) throw new Error(`${gap.errors} sends failed while ${hold.name} was stopped: ${gap.firstError}`);
    const finals = seqsOf(gap.sends);
    await Promise.all(
      workers.map((w) => w.call('prepareFailover', { url: failover.wsUrl, concurrency, targets: finals })),
    );
    const before = await serverCounters(counted);
    ctx.log(`  kill -9 ${hold.name}`);
    const run = await storm(workers, () => hold.kill(), timeoutMs);
    const perClient = perUnit(before, await serverCounters(counted), run.reconnected);
    const checked = await Promise.all(workers.map((w) => w.call('verify', { finals })));
    const check = {
      clients: checked.reduce((s, x) => s + x.clients, 0),
      withGaps: checked.reduce((s, x) => s + x.withGaps, 0),
      withDuplicates: checked.reduce((s, x) => s + x.withDuplicates, 0),
      withDisorder: checked.reduce((s, x) => s + x.withDisorder, 0),
      missing: checked.reduce((s, x) => s + x.missing, 0),
      duplicates: checked.reduce((s, x) => s + x.duplicates, 0),
    };
    ctx.log(
      `  ${run.resumed} of ${n} resumed ${Math.round(run.toResumedMs)} ms after the kill; gaps ${check.withGaps}, duplicates ${check.withDuplicates}`,
    );
    if (check.withGaps || check.withDuplicates || check.withDisorder)
      ctx.warn(
        `${who}: ${check.withGaps} clients with gaps (${check.missing} messages missing), ${check.withDuplicates} with duplicates (${check.duplicates}), ${check.withDisorder} out of order`,
      );
    await Promise.all(workers.map((w) => w.call('closeAll', undefined)));
    return { run, perClient, check, flow };
  };
  const { run: parley, perClient, check, flow } = await graphqlStorm('Parley', b, a, c, [a]);
  const peerA = await stack.startPeer('peer-A');
  const peerB = await stack.startPeer('peer-B');
  const peerC = await stack.startPeer('peer-C');
  // The peer may fall too far behind to get its clients live before the storm (its subscriptions
  // filter every event of a type): then the scenario reports Parley and bare ws without it.
  const peerFailure: { message: string | null } = { message: null };
  const peerStorm = await graphqlStorm('textbook peer', peerB, peerA, peerC, []).catch(async (err: Error) => {
    peerFailure.message = err.message;
    ctx.warn(`textbook peer: no storm figures (${err.message})`);
    await Promise.all(workers.map((w) => w.call('closeAll', undefined)));
    return null;
  });
  // Stopped before the bare run, so that a peer still working off a backlog does not slow it.
  await Promise.all([peerA, peerB, peerC].map((p) => p.stop()));
  const peer = peerStorm?.run ?? null;
  const peerCheck = peerStorm?.check ?? null;
  await load.call('close', undefined);

  ctx.log(`bare ws: ${n} sockets, kill -9 of their server`);
  const bareB: BareWorker = await ctx.worker('bare-ws.worker.ts', 'bare-ws-dying');
  const bareA: BareWorker = await ctx.worker('bare-ws.worker.ts', 'bare-ws-failover');
  const { port: portB } = await bareB.call('listen', {});
  const { port: portA } = await bareA.call('listen', { replyToSubscribe: true });
  await openClients(ctx, workers, 'raw', `ws://127.0.0.1:${portB}`, specs, openConcurrency);
  await Promise.all(
    workers.map((w) => w.call('prepareFailover', { url: `ws://127.0.0.1:${portA}`, concurrency, targets: {} })),
  );
  const baseline = await storm(workers, () => bareB.kill(), timeoutMs);
  await Promise.all(workers.map((w) => w.call('closeAll', undefined)));
  ctx.log(`  all ${baseline.resumed} resumed ${Math.round(baseline.toResumedMs)} ms after the kill`);

  for (const [who, run] of [
    ['Parley', parley],
    ...(peer ? [['textbook peer', peer] as const] : []),
    ['bare ws', baseline],
  ] as const) {
    if (run.resumed < n) ctx.warn(`${who}: ${run.resumed} of ${n} clients resumed within ${timeoutMs / 1000} s`);
    if (run.errors.length) ctx.warn(`${who}: client errors, e.g. ${run.errors[0]}`);
  }
  const clean = check.withGaps === 0 && check.withDuplicates === 0 && check.withDisorder === 0 && check.clients === n;
  const ratio = parley.toResumedMs / baseline.toResumedMs;
  return {
    title: '8. Reconnect storm',
    options: { clients: n, groupSize, rate, flowMs, reconnectConcurrency: concurrency, openConcurrency },
    figures: [
      figure({
        label: `time until all ${n} clients resumed after kill -9`,
        unit: 'ms',
        value: parley.toResumedMs,
        baseline: baseline.toResumedMs,
        baselineLabel: 'bare ws reconnects',
        peer: peer?.toResumedMs ?? null,
        target: { text: 'ratio ≤ 2', met: Number.isFinite(ratio) && ratio <= 2 },
      }),
      figure({
        label: `time until all ${n} clients reconnected (acknowledged)`,
        unit: 'ms',
        value: parley.toReconnectedMs,
        baseline: baseline.toReconnectedMs,
        baselineLabel: 'bare ws reconnects',
        peer: peer?.toReconnectedMs ?? null,
      }),
      figure({
        label: 'SQL statements on A per reconnected client',
        unit: 'statements',
        value: perClient.queries,
        baseline: null,
      }),
      figure({
        label: 'clients with a gap, a duplicate or a reordering',
        unit: 'clients',
        value: check.withGaps + check.withDuplicates + check.withDisorder,
        baseline: null,
        peer: peerCheck ? peerCheck.withGaps + peerCheck.withDuplicates + peerCheck.withDisorder : null,
        target: { text: 'none, every client checked', met: clean },
      }),
    ],
    charts: [
      {
        kind: 'bar',
        title: 'time from kill -9 to every client back',
        unit: 'ms',
        categories: ['reconnected', 'resumed'],
        series: [
          { name: 'bare ws', values: [baseline.toReconnectedMs, baseline.toResumedMs] },
          ...(peer ? [{ name: 'textbook peer', values: [peer.toReconnectedMs, peer.toResumedMs] }] : []),
          { name: 'Parley', values: [parley.toReconnectedMs, parley.toResumedMs] },
        ],
      },
    ],
    details: { parley, peer, baseline, perClient, check, peerCheck, flow },
    notes: [
      `${n} clients in ${groups} group conversations of ${groupSize} (each with one more participant who sends), one graphql-ws socket each on instance B with one \`messageAdded(after)\` subscription, in two client processes; the senders post over HTTP to a third instance C, ${rate} msg/s round-robin over the groups for ${flowMs / 1000} s.`,
      `Then B is stopped (SIGSTOP) and one more message goes to every group, so every client has a gap to replay; B is killed (SIGKILL) and each client, on its socket's close, reconnects to A (at most ${concurrency} handshakes in flight per client process) and subscribes with \`after\` = the last seq it received. "Resumed" = the client holds every message up to that last round's; the check afterwards requires each client to hold exactly seqs 1..last of its conversation, once each, in order.`,
      `A's work during the storm per reconnected client (from /metrics; authentication, subscription and replay): ${perClient.queries.toFixed(2)} SQL statements, ${perClient.cpuMs.toFixed(2)} ms CPU.`,
      'Peer: the same storm on three textbook peer instances (clients on one, senders on another, failover to the third); its `after` replay reads the missed messages with TypeORM before the live events.' +
        (peerFailure.message ? ` In this run it gave no figures: ${peerFailure.message}.` : ''),
      'Baseline: the same number of bare ws sockets on a bare server that is killed; they reconnect to a second bare server, which acknowledges connection_init and answers the subscribe frame with one `next` frame ("resumed").',
    ],
  };
};
