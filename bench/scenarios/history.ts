import { MessagesDocument } from '../../src/client/generated';
import { encodeCursor } from '../../src/shared/pagination';
import type { Scenario } from '../lib/context';
import { gqlHttp } from '../lib/graphql';
import type { LoadResult } from '../lib/load';
import type { LoadWorker } from '../lib/probe';
import { figure, type Figure } from '../lib/results';
import { seedUsers, startConversations } from '../lib/seed';
import type { handlers as PgHandlers } from '../workers/pg-baseline.worker';

/**
 * 5. History: `messages` page latency in one conversation holding `--messages` (1,000,000)
 * messages, bulk-inserted in SQL after the migrations ran: the newest page, and a page deep in
 * history (after a cursor near the oldest end), closed loop at each concurrency. Baselines: a bare
 * node:http server answering the same keyset query through node-postgres, driven by the same HTTP
 * load client (the ratios are to it: what this machine does for an HTTP request that reads a page
 * from PostgreSQL); and the keyset query alone through node-postgres, without HTTP.
 */
const BARE = 'bare node:http + node-postgres';

export const history: Scenario = async (ctx) => {
  const f = ctx.flags;
  const count = f.number('messages', 1_000_000, 20_000);
  const levels = f.numbers('concurrency', [1, 8], [1]);
  const warmupMs = f.number('warmup', 1, 0.3) * 1000;
  const durationMs = f.number('duration', 4, 1) * 1000;
  const prewarmMs = f.number('prewarm', 3, 0.5) * 1000;
  const pageSize = f.number('page', 50);
  const deepSeq = Math.max(pageSize + 1, Math.round(count / 1000));

  const stack = await ctx.stack();
  const a = await stack.start('A');
  const [alice, bob] = await seedUsers(stack, 'hist', 2);
  const [conversationId] = await startConversations(a.url, [{ starter: alice, others: [bob] }]);
  ctx.log(`inserting ${count} messages`);
  const started = Date.now();
  const pool = stack.pool();
  await pool.query(
    `INSERT INTO messages (conversation_id, sender_id, seq, body, created_at)
     SELECT $1, CASE WHEN g % 2 = 0 THEN $2::uuid ELSE $3::uuid END, g, 'history message number ' || g,
            date_trunc('milliseconds', now()) - make_interval(secs => $4::int - g)
       FROM generate_series(1, $4::int) g`,
    [conversationId, alice.id, bob.id, count],
  );
  await pool.query(
    `UPDATE conversations SET last_seq = $2, last_activity_at = date_trunc('milliseconds', now()) WHERE id = $1`,
    [conversationId, count],
  );
  await pool.query('VACUUM ANALYZE messages');
  await pool.query('VACUUM ANALYZE conversations');
  const insertSeconds = (Date.now() - started) / 1000;
  ctx.log(`inserted in ${insertSeconds.toFixed(1)} s`);

  const pages = [
    {
      name: 'first page',
      variables: { conversationId, first: pageSize },
      peerVariables: { conversationId, first: pageSize },
      beforeSeq: count + 1,
      firstSeq: count,
    },
    {
      name: 'deep page',
      variables: { conversationId, first: pageSize, after: encodeCursor('message', [deepSeq]) },
      // the peer's cursor is the seq itself
      peerVariables: { conversationId, first: pageSize, after: String(deepSeq) },
      beforeSeq: deepSeq,
      firstSeq: deepSeq - 1,
    },
  ];
  const peer = await stack.startPeer('peer', { DB_POOL_SIZE: '10' });
  for (const page of pages) {
    for (const [server, variables] of [
      [a, page.variables],
      [peer, page.peerVariables],
    ] as const) {
      const data = await gqlHttp(server.url, MessagesDocument, variables, alice.token);
      const seqs = data.messages.edges.map((e) => e.node.seq);
      if (seqs.length !== pageSize || seqs[0] !== page.firstSeq)
        throw new Error(
          `${page.name} on ${server.name}: unexpected page ${seqs.slice(0, 3).join(',')}... (${seqs.length} rows)`,
        );
    }
  }

  const load: LoadWorker = await ctx.worker('graphql-load.worker.ts', 'history-load');
  const pg = await ctx.worker<typeof PgHandlers>('pg-baseline.worker.ts', 'pg-baseline');
  const { url: bareUrl } = await pg.call('startPageServer', { databaseUrl: stack.databaseUrl, poolSize: 10 });
  // A fresh process runs its first seconds unoptimized: both servers serve both pages before any cell is measured.
  ctx.log(`warming up (${prewarmMs / 1000} s per page and server, not measured)`);
  for (const page of pages) {
    const bareBody = JSON.stringify({ conversationId, beforeSeq: page.beforeSeq, limit: pageSize + 1 });
    await load.call('queryLoop', {
      url: a.url,
      token: alice.token,
      variables: page.variables,
      concurrency: 8,
      warmupMs: prewarmMs,
      durationMs: 1,
    });
    await load.call('queryLoop', {
      url: bareUrl,
      token: alice.token,
      variables: page.variables,
      body: bareBody,
      concurrency: 8,
      warmupMs: prewarmMs,
      durationMs: 1,
    });
    await load.call('queryLoop', {
      url: peer.url,
      token: alice.token,
      variables: page.peerVariables,
      concurrency: 8,
      warmupMs: prewarmMs,
      durationMs: 1,
    });
  }
  const cells: Array<{
    page: string;
    concurrency: number;
    parley: LoadResult;
    /** the textbook peer */
    peer: LoadResult;
    baseline: LoadResult;
    direct: LoadResult;
  }> = [];
  for (const concurrency of levels) {
    for (const page of pages) {
      ctx.log(`${page.name}, concurrency ${concurrency}`);
      const bareBody = JSON.stringify({ conversationId, beforeSeq: page.beforeSeq, limit: pageSize + 1 });
      const baseline = await load.call('queryLoop', {
        url: bareUrl,
        token: alice.token,
        variables: page.variables,
        body: bareBody,
        concurrency,
        warmupMs,
        durationMs,
      });
      const direct = await pg.call('pageLoop', {
        databaseUrl: stack.databaseUrl,
        poolSize: 10,
        concurrency,
        warmupMs,
        durationMs,
        conversationId,
        beforeSeq: page.beforeSeq,
        limit: pageSize + 1,
      });
      const parley = await load.call('queryLoop', {
        url: a.url,
        token: alice.token,
        variables: page.variables,
        concurrency,
        warmupMs,
        durationMs,
      });
      const peerResult = await load.call('queryLoop', {
        url: peer.url,
        token: alice.token,
        variables: page.peerVariables,
        concurrency,
        warmupMs,
        durationMs,
      });
      if (peerResult.errors)
        ctx.warn(`${peerResult.errors} failed peer queries (${page.name}): ${peerResult.firstError}`);
      if (parley.errors)
        ctx.warn(`${parley.errors} failed queries (${page.name}, concurrency ${concurrency}): ${parley.firstError}`);
      if (baseline.errors)
        ctx.warn(
          `${baseline.errors} failed bare pages (${page.name}, concurrency ${concurrency}): ${baseline.firstError}`,
        );
      cells.push({ page: page.name, concurrency, parley, peer: peerResult, baseline, direct });
    }
  }
  await pg.call('stopBareServer', undefined);

  const figures: Figure[] = [];
  for (const c of cells) {
    const atOne = c.concurrency === 1;
    figures.push(
      figure({
        label: `${c.page} p99, concurrency ${c.concurrency}`,
        unit: 'ms',
        value: c.parley.latency.p99,
        baseline: c.baseline.latency.p99,
        baselineLabel: BARE,
        peer: c.peer.latency.p99,
        ...(atOne ? { target: { text: '< 5 ms', met: c.parley.latency.p99 < 5 } } : {}),
      }),
    );
    if (atOne)
      figures.push(
        figure({
          label: `${c.page} p50, concurrency 1`,
          unit: 'ms',
          value: c.parley.latency.p50,
          baseline: c.baseline.latency.p50,
          baselineLabel: BARE,
          peer: c.peer.latency.p50,
        }),
      );
    else
      figures.push(
        figure({
          label: `${c.page} throughput, concurrency ${c.concurrency}`,
          unit: 'pages/s',
          value: c.parley.throughput,
          baseline: c.baseline.throughput,
          baselineLabel: BARE,
          peer: c.peer.throughput,
        }),
      );
  }
  const categories = cells.map((c) => `${c.page.replace(' page', '')} ×${c.concurrency}`);
  return {
    title: '5. History',
    options: { count, levels, warmupMs, prewarmMs, durationMs, pageSize, deepSeq, insertSeconds },
    figures,
    charts: [
      {
        kind: 'bar',
        title: 'messages page p99',
        unit: 'ms',
        categories,
        series: [
          { name: 'node-postgres alone p99', values: cells.map((c) => c.direct.latency.p99) },
          { name: 'bare HTTP server p99', values: cells.map((c) => c.baseline.latency.p99) },
          { name: 'Parley p50', values: cells.map((c) => c.parley.latency.p50) },
          { name: 'Parley p99', values: cells.map((c) => c.parley.latency.p99) },
        ],
      },
      {
        kind: 'bar',
        title: 'pages per second',
        unit: 'pages/s',
        categories,
        series: [
          { name: 'node-postgres alone', values: cells.map((c) => c.direct.throughput) },
          { name: 'bare HTTP server', values: cells.map((c) => c.baseline.throughput) },
          { name: 'Parley', values: cells.map((c) => c.parley.throughput) },
        ],
      },
    ],
    details: cells,
    notes: [
      `One direct conversation holding ${count.toLocaleString('en')} messages (inserted with generate_series in ${insertSeconds.toFixed(0)} s, then VACUUM ANALYZE). Pages of ${pageSize}, newest first, with \`sender\` selected (the Messages document); the deep page starts after the cursor of seq ${deepSeq}.`,
      `Closed loop over HTTP, ${durationMs / 1000} s per cell after ${warmupMs / 1000} s warm-up. The ratios are to a bare node:http server running the keyset query (LIMIT ${pageSize + 1}) through node-postgres and answering the rows as JSON, driven by the same load client: no GraphQL, no authentication, no membership check, no sender join. The keyset query alone through node-postgres (no HTTP) is in the charts and details.`,
      `node-postgres alone, p50 / p99 per cell (${cells.map((c) => `${c.page.replace(' page', '')} ×${c.concurrency}`).join(', ')}): ${cells.map((c) => `${c.direct.latency.p50.toFixed(2)} / ${c.direct.latency.p99.toFixed(2)} ms`).join(', ')}.`,
    ],
  };
};
