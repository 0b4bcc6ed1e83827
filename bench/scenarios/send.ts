import type { Scenario } from '../lib/context';
import type { LoadResult } from '../lib/load';
import type { LoadWorker } from '../lib/probe';
import { perUnit, serverCounters } from '../lib/prom';
import { figure, type Figure } from '../lib/results';
import { seedPairs } from '../lib/seed';
import type { handlers as PgHandlers } from '../workers/pg-baseline.worker';

type Transport = 'http' | 'ws';

/**
 * 1. Send throughput: `sendMessage` per second at each concurrency, over HTTP (node:http keep-alive) and over
 * WebSocket (graphql-ws), closed loop, each lane its own sender and direct conversation (so lanes
 * do not queue on one counter row). Baseline: node-postgres running the same statement (bump the
 * counter, insert the message, one transaction) at the same concurrency, measured twice: through a
 * pool of the same size (one query per connection at a time), and pipelined over as many
 * connections as Parley's DB_PIPELINE_CONNECTIONS (as Parley sends). WebSocket ratios are to the
 * stronger of the two. HTTP ratios are to a bare node:http + node-postgres send server (the same
 * statement over as many pipelined connections) driven by the same HTTP load client, so both sides
 * pay for HTTP and the ratio measures Parley's own cost (issue 17).
 */
export const send: Scenario = async (ctx) => {
  const f = ctx.flags;
  const concurrencies = f.numbers('concurrency', [16, 64], [4]);
  const transports = f.words('transports', ['http', 'ws']) as Transport[];
  const warmupMs = f.number('warmup', 2, 0.5) * 1000;
  const prewarmMs = f.number('prewarm', 4, 0.5) * 1000;
  const durationMs = f.number('duration', 8, 1.5) * 1000;
  const poolSize = f.number('pool', 10);
  const pipeline = f.number('pipeline', 4);
  const lanes = Math.max(...concurrencies);

  const stack = await ctx.stack();
  const a = await stack.start('A', { DB_POOL_SIZE: String(poolSize), DB_PIPELINE_CONNECTIONS: String(pipeline) });
  const { senders } = await seedPairs(stack, a.url, 'send', lanes);
  const peer = await stack.startPeer('peer', { DB_POOL_SIZE: String(poolSize) });
  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'send-load');
  const pg = await ctx.worker<typeof PgHandlers>('pg-baseline.worker.ts', 'pg-baseline');
  const bareHttp = transports.includes('http')
    ? await pg.call('startSendServer', { databaseUrl: stack.databaseUrl, pipeline: Math.max(pipeline, 1), senders })
    : null;

  // A fresh process runs its first seconds unoptimized (V8 compiles hot functions as they get hot):
  // both transports are driven before any cell is measured, so the first cell is not the slowest.
  for (const server of [a, peer]) {
    for (const transport of transports) {
      ctx.log(
        `warming ${server.name} up over ${transport} (${prewarmMs / 1000} s at concurrency ${lanes}, not measured)`,
      );
      await load.call('connect', { transport, httpUrl: server.url, wsUrl: server.wsUrl, senders });
      await load.call('closedLoop', { concurrency: lanes, warmupMs: prewarmMs, durationMs: 1 });
    }
  }

  const cells: Array<{
    concurrency: number;
    /** the stronger of the two baselines */
    baseline: LoadResult & { label: string };
    baselines: { pool: LoadResult; pipelined: LoadResult | null };
    parley: Record<string, LoadResult & { perSend: { cpuMs: number; queries: number } }>;
    /** the textbook peer, same load */
    peer: Record<string, LoadResult>;
    /** the bare node:http + node-postgres send server, same HTTP load (when HTTP is measured) */
    bareHttp: LoadResult | null;
  }> = [];
  for (const concurrency of concurrencies) {
    const targets = senders.slice(0, concurrency);
    const common = { databaseUrl: stack.databaseUrl, poolSize, concurrency, warmupMs, durationMs, targets };
    ctx.log(`node-postgres baseline (pool of ${poolSize}), concurrency ${concurrency}`);
    const pool = await pg.call('sendLoop', common);
    let pipelined: LoadResult | null = null;
    if (pipeline > 0) {
      ctx.log(`node-postgres baseline (${pipeline} pipelined connections), concurrency ${concurrency}`);
      pipelined = await pg.call('sendLoop', { ...common, pipeline });
    }
    const baseline =
      pipelined && pipelined.throughput > pool.throughput
        ? { ...pipelined, label: `node-postgres, ${pipeline} pipelined connections` }
        : { ...pool, label: `node-postgres, pool of ${poolSize}` };
    const parley: Record<string, LoadResult & { perSend: { cpuMs: number; queries: number } }> = {};
    for (const transport of transports) {
      ctx.log(`Parley over ${transport}, concurrency ${concurrency}`);
      await load.call('connect', { transport, httpUrl: a.url, wsUrl: a.wsUrl, senders: targets });
      const before = await serverCounters([a]);
      const result = await load.call('closedLoop', { concurrency, warmupMs, durationMs });
      parley[transport] = { ...result, perSend: perUnit(before, await serverCounters([a]), result.total) };
      if (result.errors)
        ctx.warn(`${result.errors} failed sends over ${transport} at concurrency ${concurrency}: ${result.firstError}`);
    }
    let bareHttpResult: LoadResult | null = null;
    if (bareHttp) {
      ctx.log(`bare node:http + node-postgres send server, concurrency ${concurrency}`);
      await load.call('connect', { transport: 'http', httpUrl: bareHttp.url, wsUrl: a.wsUrl, senders: targets });
      bareHttpResult = await load.call('closedLoop', { concurrency, warmupMs, durationMs });
      if (bareHttpResult.errors)
        ctx.warn(`${bareHttpResult.errors} failed bare HTTP sends: ${bareHttpResult.firstError}`);
    }
    const peerResults: Record<string, LoadResult> = {};
    for (const transport of transports) {
      ctx.log(`textbook peer over ${transport}, concurrency ${concurrency}`);
      await load.call('connect', { transport, httpUrl: peer.url, wsUrl: peer.wsUrl, senders: targets });
      peerResults[transport] = await load.call('closedLoop', { concurrency, warmupMs, durationMs });
      if (peerResults[transport].errors)
        ctx.warn(
          `${peerResults[transport].errors} failed peer sends over ${transport}: ${peerResults[transport].firstError}`,
        );
    }
    for (const b of [pool, pipelined]) if (b?.errors) ctx.warn(`${b.errors} failed baseline sends: ${b.firstError}`);
    cells.push({
      concurrency,
      baseline,
      baselines: { pool, pipelined },
      parley,
      peer: peerResults,
      bareHttp: bareHttpResult,
    });
  }
  await load.call('close', undefined);
  if (bareHttp) await pg.call('stopBareServer', undefined);

  const figures: Figure[] = [];
  for (const { concurrency, baseline: pgBaseline, parley, peer: peerCell, bareHttp: bareCell } of cells) {
    for (const transport of transports) {
      const r = parley[transport];
      const p = peerCell[transport];
      // HTTP against the bare HTTP send server (target 0.8), WebSocket against node-postgres (0.5).
      const baseline =
        transport === 'http' && bareCell
          ? { ...bareCell, label: 'bare node:http + node-postgres send server' }
          : pgBaseline;
      const floor = transport === 'http' && bareCell ? 0.8 : 0.5;
      const ratio = r.throughput / baseline.throughput;
      figures.push(
        figure({
          label: `send throughput, ${transport.toUpperCase()}, concurrency ${concurrency}`,
          unit: 'msg/s',
          value: r.throughput,
          baseline: baseline.throughput,
          baselineLabel: baseline.label,
          peer: p.throughput,
          target: { text: `ratio ≥ ${floor.toFixed(2)}`, met: ratio >= floor },
        }),
        figure({
          label: `send p50, ${transport.toUpperCase()}, concurrency ${concurrency}`,
          unit: 'ms',
          value: r.latency.p50,
          baseline: baseline.latency.p50,
          baselineLabel: baseline.label,
          peer: p.latency.p50,
        }),
        figure({
          label: `send p99, ${transport.toUpperCase()}, concurrency ${concurrency}`,
          unit: 'ms',
          value: r.latency.p99,
          baseline: baseline.latency.p99,
          baselineLabel: baseline.label,
          peer: p.latency.p99,
        }),
      );
    }
  }
  const categories = cells.map((c) => `concurrency ${c.concurrency}`);
  const series = (pick: (r: LoadResult) => number) => [
    { name: 'node-postgres pool', values: cells.map((c) => pick(c.baselines.pool)) },
    ...(pipeline > 0
      ? [{ name: 'node-postgres pipelined', values: cells.map((c) => pick(c.baselines.pipelined!)) }]
      : []),
    ...(bareHttp ? [{ name: 'bare HTTP send server', values: cells.map((c) => pick(c.bareHttp!)) }] : []),
    ...transports.map((t) => ({ name: `peer ${t.toUpperCase()}`, values: cells.map((c) => pick(c.peer[t])) })),
    ...transports.map((t) => ({ name: `Parley ${t.toUpperCase()}`, values: cells.map((c) => pick(c.parley[t])) })),
  ];
  const perSend = transports
    .map(
      (t) =>
        `${t.toUpperCase()} ${cells.map((c) => `${c.parley[t].perSend.queries.toFixed(1)} statements, ${c.parley[t].perSend.cpuMs.toFixed(2)} ms CPU`).join(' / ')}`,
    )
    .join('; ');
  return {
    title: '1. Send throughput',
    options: { concurrencies, transports, warmupMs, prewarmMs, durationMs, poolSize, pipeline },
    figures,
    charts: [
      { kind: 'bar', title: 'sendMessage throughput', unit: 'msg/s', categories, series: series((r) => r.throughput) },
      { kind: 'bar', title: 'p50 latency', unit: 'ms', categories, series: series((r) => r.latency.p50) },
      { kind: 'bar', title: 'p99 latency', unit: 'ms', categories, series: series((r) => r.latency.p99) },
    ],
    details: cells,
    notes: [
      `Closed loop: each of the N lanes sends to its own direct conversation and waits for the answer before sending again; ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up per cell, and the instance was driven over each transport for ${prewarmMs / 1000} s before the first cell. One Parley instance with DB_POOL_SIZE=${poolSize} and DB_PIPELINE_CONNECTIONS=${pipeline}; the baseline runs through a node-postgres pool of the same size${pipeline > 0 ? `, and again over ${pipeline} pipelined connections (as Parley's sends go); each ratio is to the stronger of the two` : ''}.`,
      `Peer: the textbook server (bench/peers/textbook: Apollo Server 5 + express, TypeORM transaction locking the conversation row for the seq, graphql-redis-subscriptions) with a TypeORM pool of ${poolSize}, the same senders and load; warmed up the same way.`,
      `Baselines per concurrency (${concurrencies.join(' / ')}): pool ${cells.map((c) => c.baselines.pool.throughput.toFixed(0)).join(' / ')} msg/s${pipeline > 0 ? `; pipelined ${cells.map((c) => c.baselines.pipelined!.throughput.toFixed(0)).join(' / ')} msg/s` : ''}${bareHttp ? `; bare HTTP send server ${cells.map((c) => c.bareHttp!.throughput.toFixed(0)).join(' / ')} msg/s` : ''}.`,
      ...(bareHttp
        ? [
            `HTTP sends are compared with a bare node:http server (bench/workers/pg-baseline.worker.ts) that takes the same GraphQL POST, finds the sender by its token in a map, runs the same statement over ${Math.max(pipeline, 1)} pipelined node-postgres connections and answers the row as JSON: no GraphQL, JWT, limits or publishing. HTTP against raw node-postgres per concurrency: ${cells.map((c) => (c.parley.http.throughput / c.baseline.throughput).toFixed(2)).join(' / ')}.`,
          ]
        : []),
      `Server work per send (parley_db_queries_total and parley_process_cpu_seconds_total over each cell, warm-up included; concurrency ${concurrencies.join(' / ')}): ${perSend}. The baseline runs one statement per send.`,
      'The SendMessage document selects `sender { id username displayName }`, which the server resolves with a user loader.',
    ],
  };
};
