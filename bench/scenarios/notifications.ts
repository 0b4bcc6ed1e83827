import type { Scenario, ScenarioContext } from '../lib/context';
import type { LoadResult } from '../lib/load';
import type { ParleyProcess } from '../lib/parley-process';
import type { BenchStack } from '../lib/stack';
import type { LoadWorker } from '../lib/probe';
import { histogramQuantile, perUnit, promValue, serverCounters } from '../lib/prom';
import { figure, type Figure } from '../lib/results';
import { seedPairs, seedUsers, startConversations } from '../lib/seed';
import type { SenderSpec } from '../workers/graphql-load.worker';
import { sleep } from '../lib/stats';

const COMMIT_TO_STORED = 'parley_notify_commit_to_stored_seconds';

/**
 * Waits until the shared notification queue is empty (every job decided and stored) on two
 * readings 100 ms apart: messages still in a job's 5 ms linger are not in the queue yet.
 * @returns ms waited.
 */
async function drained(instance: ParleyProcess, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let empty = 0;
  while (Date.now() - started < timeoutMs) {
    empty = promValue(await instance.metrics(), 'parley_notify_queue_depth') === 0 ? empty + 1 : 0;
    if (empty === 2) return Date.now() - started;
    await sleep(100);
  }
  return Number.NaN;
}

/** Server work per send: the instance's CPU and statements, and PostgreSQL's CPU on the stack's database. */
type PerSend = { cpuMs: number; queries: number; dbCpuMs: number };

/** One closed-loop cell on one instance, with its server work per send. */
async function sendCell(
  load: LoadWorker,
  stack: BenchStack,
  instance: ParleyProcess,
  senders: SenderSpec[],
  options: { concurrency: number; warmupMs: number; durationMs: number },
): Promise<LoadResult & { perSend: PerSend }> {
  await load.call('connect', { transport: 'http', httpUrl: instance.url, wsUrl: instance.wsUrl, senders });
  const before = await serverCounters([instance]);
  const dbBefore = stack.databaseCpuSeconds();
  const result = await load.call('closedLoop', options);
  const dbCpuMs = ((stack.databaseCpuSeconds() - dbBefore) * 1000) / Math.max(1, result.total);
  return { ...result, perSend: { ...perUnit(before, await serverCounters([instance]), result.total), dbCpuMs } };
}

interface KindResult {
  kind: string;
  recipients: number;
  on: LoadResult & { perSend: PerSend };
  off: LoadResult & { perSend: PerSend };
  /** ms the queue took to drain after the `on` cell */
  drainMs: number;
}

function warnErrors(ctx: ScenarioContext, what: string, r: LoadResult): void {
  if (r.errors) ctx.warn(`${r.errors} failed sends (${what}): ${r.firstError}`);
}

/**
 * 6. Notifications (issue 14): `sendMessage` throughput when every recipient is offline, so that
 * each message makes notifications (direct conversations: one per message; a group of 50: 49 per
 * message), on an instance with notifications on, as a ratio to an instance of the same database
 * with NOTIFICATIONS=off (which enqueues nothing). Then the p99 from a message's commit to its
 * notifications being stored (parley_notify_commit_to_stored_seconds) under an open-loop load.
 */
export const notifications: Scenario = async (ctx) => {
  const f = ctx.flags;
  const concurrency = f.number('concurrency', 16, 4);
  const warmupMs = f.number('warmup', 1, 0.5) * 1000;
  const prewarmMs = f.number('prewarm', 3, 0.5) * 1000;
  const durationMs = f.number('duration', 6, 1.5) * 1000;
  const rate = f.number('rate', 500, 100);
  const rateDurationMs = f.number('rate-duration', 10, 2) * 1000;
  const groupSize = f.number('group', 50, 10);
  const conversations = f.number('conversations', 100, 10);

  const stack = await ctx.stack();
  // The off instance runs no worker either: it would otherwise take the on instance's jobs.
  const on = await stack.start('A', { NOTIFY_WORKER: 'true' });
  const off = await stack.start('B', { NOTIFICATIONS: 'off', NOTIFY_WORKER: 'false' });
  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'notify-senders');

  // Recipients never connect: presence has them OFFLINE, so every message notifies them.
  const pairs = await seedPairs(stack, off.url, 'notify', Math.max(conversations, concurrency));
  const direct = pairs.senders;
  const members = await seedUsers(stack, 'notifygroup', groupSize);
  const [groupId] = await startConversations(off.url, [{ starter: members[0], others: members.slice(1) }]);
  const group: SenderSpec[] = members
    .slice(0, Math.min(concurrency, groupSize))
    .map((u) => ({ token: u.token, senderId: u.id, conversationId: groupId }));

  const cell = { concurrency, warmupMs, durationMs };
  for (const instance of [off, on]) {
    ctx.log(`warming ${instance.name} up (${prewarmMs / 1000} s, not measured)`);
    await sendCell(load, stack, instance, direct.slice(0, concurrency), {
      ...cell,
      warmupMs: prewarmMs,
      durationMs: 1,
    });
  }
  const drainTimeout = 120_000;
  await drained(on, drainTimeout);

  const kinds: KindResult[] = [];
  for (const [kind, senders, recipients] of [
    ['direct conversations', direct.slice(0, concurrency), 1],
    [`a group of ${groupSize}`, group, groupSize - 1],
  ] as const) {
    ctx.log(`${kind}: notifications off (instance B)`);
    const offResult = await sendCell(load, stack, off, [...senders], cell);
    ctx.log(`${kind}: notifications on (instance A)`);
    const onResult = await sendCell(load, stack, on, [...senders], cell);
    const drainMs = await drained(on, drainTimeout);
    if (Number.isNaN(drainMs))
      ctx.warn(`${kind}: the notification queue did not drain within ${drainTimeout / 1000} s`);
    warnErrors(ctx, `${kind}, off`, offResult);
    warnErrors(ctx, `${kind}, on`, onResult);
    ctx.log(
      `  off ${Math.round(offResult.throughput)} msg/s, on ${Math.round(onResult.throughput)} msg/s, queue drained ${Math.round(drainMs)} ms after`,
    );
    kinds.push({ kind, recipients, on: onResult, off: offResult, drainMs });
  }

  ctx.log(`commit → stored notification at ${rate} msg/s over ${direct.length} direct conversations`);
  await load.call('connect', { transport: 'http', httpUrl: on.url, wsUrl: on.wsUrl, senders: direct });
  const before = await on.metrics();
  const open = await load.call('openLoop', { rate, durationMs: rateDurationMs });
  const drainMs = await drained(on, drainTimeout);
  const after = await on.metrics();
  await load.call('close', undefined);
  if (open.errors) ctx.warn(`${open.errors} failed sends at ${rate} msg/s: ${open.firstError}`);
  if (open.maxLagMs > 50) ctx.warn(`the load generator fired up to ${Math.round(open.maxLagMs)} ms late`);
  const p50 = histogramQuantile(before, after, COMMIT_TO_STORED, 0.5);
  const p99 = histogramQuantile(before, after, COMMIT_TO_STORED, 0.99);
  if ((p99?.count ?? 0) < open.ok)
    ctx.warn(`${p99?.count ?? 0} messages had their notifications stored, of ${open.ok} sent at ${rate} msg/s`);

  const figures: Figure[] = [];
  for (const k of kinds) {
    const r = k.on.throughput / k.off.throughput;
    figures.push(
      figure({
        label: `send throughput, recipients offline, ${k.kind}, notifications on`,
        unit: 'msg/s',
        value: k.on.throughput,
        baseline: k.off.throughput,
        baselineLabel: 'NOTIFICATIONS=off',
        target: { text: 'ratio ≥ 0.60', met: Number.isFinite(r) && r >= 0.6 },
      }),
      figure({
        label: `send p99, recipients offline, ${k.kind}, notifications on`,
        unit: 'ms',
        value: k.on.latency.p99,
        baseline: k.off.latency.p99,
        baselineLabel: 'NOTIFICATIONS=off',
      }),
    );
  }
  const p99ms = p99 ? p99.value * 1000 : null;
  figures.push(
    figure({
      label: `commit → stored notification p99 at ${rate} msg/s`,
      unit: 'ms',
      value: p99ms,
      baseline: null,
      target: {
        text: `< 100 ms${rate === 500 ? '' : ' (target is at 500 msg/s)'}`,
        met: p99ms !== null && p99ms < 100,
      },
    }),
  );
  const categories = kinds.map((k) => k.kind);
  return {
    title: '6. Notifications',
    options: { concurrency, warmupMs, prewarmMs, durationMs, rate, rateDurationMs, groupSize, conversations },
    figures,
    charts: [
      {
        kind: 'bar',
        title: 'sendMessage throughput, every recipient offline',
        unit: 'msg/s',
        categories,
        series: [
          { name: 'NOTIFICATIONS=off', values: kinds.map((k) => k.off.throughput) },
          { name: 'notifications on', values: kinds.map((k) => k.on.throughput) },
        ],
      },
    ],
    details: { kinds, commitToStored: { p50, p99, open, drainMs } },
    notes: [
      `Two instances on one database: A with notifications on (its worker runs the jobs), B with NOTIFICATIONS=off and NOTIFY_WORKER=false. Recipients never connect, so presence has them offline and every message notifies them (${kinds.map((k) => `${k.kind}: ${k.recipients} per message`).join('; ')}).`,
      `Closed loop over HTTP at concurrency ${concurrency}, ${durationMs / 1000} s per cell after ${warmupMs / 1000} s warm-up; after each cell with notifications on, the queue is left to drain (${kinds.map((k) => `${k.kind}: ${Math.round(k.drainMs)} ms`).join('; ')}) so that no backlog reaches the next cell. The throughput counts what the sender sees: the worker runs in the same process and competes with the sends for CPU.`,
      `Server work per send (from /metrics, the worker included while it ran inside the cell; PostgreSQL's from /proc, its backends on the bench database): ${kinds.map((k) => `${k.kind}: on ${k.on.perSend.queries.toFixed(1)} statements / ${k.on.perSend.cpuMs.toFixed(2)} ms CPU / ${k.on.perSend.dbCpuMs.toFixed(2)} ms PostgreSQL CPU, off ${k.off.perSend.queries.toFixed(1)} / ${k.off.perSend.cpuMs.toFixed(2)} / ${k.off.perSend.dbCpuMs.toFixed(2)}`).join('; ')}.`,
      `Commit → stored: open loop at ${rate} msg/s for ${rateDurationMs / 1000} s over ${direct.length} direct conversations on A; p50 ${p50 ? (p50.value * 1000).toFixed(1) : '–'} ms, p99 from the histogram parley_notify_commit_to_stored_seconds (interpolated inside its buckets, as histogram_quantile does; its buckets near the target end at 50, 100 and 250 ms).`,
    ],
  };
};
