import type { handlers as BareHandlers } from '../workers/bare-ws.worker';
import type { ReceiverSpec, SeqTally } from '../workers/subscribers.worker';
import type { ScenarioContext } from './context';
import type { SubscriberWorker } from './probe';
import type { WorkerProcess } from './workers';

/** A bare `ws` baseline server process (bare-ws.worker.ts). */
export type BareWorker = WorkerProcess<typeof BareHandlers>;

/**
 * Splits receivers over the receiver processes (receiver i goes to process i mod their number),
 * process k connecting to `urls[k]` (one per instance / bare server), at most 50 handshakes in
 * flight per process. Shared by the fan-out and small-groups scenarios.
 * @throws when any receiver fails to connect.
 */
export async function openHalves(
  ctx: ScenarioContext,
  receivers: readonly SubscriberWorker[],
  mode: 'graphql-ws' | 'raw',
  urls: readonly string[],
  specs: readonly ReceiverSpec[],
): Promise<void> {
  const results = await Promise.all(
    receivers.map((r, half) =>
      r.call('open', {
        mode,
        url: urls[half],
        receivers: specs.filter((_, i) => i % receivers.length === half),
        concurrency: 50,
      }),
    ),
  );
  for (const r of results) if (r.failed) throw new Error(`${r.failed} subscribers failed to connect: ${r.firstError}`);
  ctx.log(
    `  ${specs.length} subscribers connected (${mode}) in ${Math.round(Math.max(...results.map((r) => r.elapsedMs)))} ms`,
  );
}

/** Starts two bare `ws` servers (the fan-out baselines). @returns the workers and their URLs. */
export async function startBarePair(ctx: ScenarioContext): Promise<{ bare: BareWorker[]; urls: string[] }> {
  const bare: BareWorker[] = [
    await ctx.worker('bare-ws.worker.ts', 'bare-ws-1'),
    await ctx.worker('bare-ws.worker.ts', 'bare-ws-2'),
  ];
  const urls = (await Promise.all(bare.map((s) => s.call('listen', undefined)))).map(
    ({ port }) => `ws://127.0.0.1:${port}`,
  );
  return { bare, urls };
}

/** Merges the tallies of the receiver processes: deliveries, first and last arrival per seq. */
export function mergeTallies(parts: Array<{ tallies: SeqTally[] }>): {
  delivered: number;
  first: number;
  last: number;
} {
  let delivered = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const part of parts) {
    for (const t of part.tallies) {
      delivered += t.count;
      if (t.count) {
        first = Math.min(first, t.first);
        last = Math.max(last, t.last);
      }
    }
  }
  return { delivered, first, last };
}
