import { sleep, summarize, wallNow, type LatencySummary } from './stats';

/** What a load loop measured. */
export interface LoadResult {
  /** operations completed successfully inside the measured window */
  ok: number;
  /** every operation completed successfully, warm-up included */
  total: number;
  errors: number;
  firstError: string | null;
  /** length of the measured window, ms */
  elapsedMs: number;
  /** ok operations per second */
  throughput: number;
  /** latency of the successful operations, ms */
  latency: LatencySummary;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 500);

/**
 * Closed-loop load: `concurrency` lanes, each starting its next operation as soon as the previous
 * one ends. Operations started during the warm-up are not counted; then those that start and end
 * within `durationMs` are. This is how throughput at a given concurrency is measured.
 *
 * @param op - one operation of lane `lane` (its `n`-th).
 */
export async function closedLoop(
  options: { concurrency: number; warmupMs: number; durationMs: number },
  op: (lane: number, n: number) => Promise<void>,
): Promise<LoadResult> {
  const begin = performance.now();
  const from = begin + options.warmupMs;
  const until = from + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let total = 0;
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, lane) => {
      for (let n = 0; ; n++) {
        const start = performance.now();
        if (start >= until) return;
        try {
          await op(lane, n);
          total++;
          const end = performance.now();
          if (start >= from && end <= until) latencies.push(end - start);
        } catch (err) {
          if (start >= from) errors++;
          firstError ??= describe(err);
          // A failing target must not turn the loop into a busy spin.
          await sleep(5);
        }
      }
    }),
  );
  return {
    ok: latencies.length,
    total,
    errors,
    firstError,
    elapsedMs: options.durationMs,
    throughput: (latencies.length * 1000) / options.durationMs,
    latency: summarize(latencies),
  };
}

/** What an open-loop run did. */
export interface OpenLoopResult {
  scheduled: number;
  ok: number;
  errors: number;
  firstError: string | null;
  /** how late the generator fired, at worst (ms): large values mean the load generator lagged */
  maxLagMs: number;
  /** response time of the sends, ms */
  latency: LatencySummary;
}

/**
 * Open-loop load: operation `k` is due at `start + k / rate` whatever happened to the earlier
 * ones, so a slow server meets the same offered load (no coordinated omission). `fire` gets the
 * intended wall-clock time of its operation, which receivers measure latency from.
 */
export async function openLoop(
  options: { rate: number; durationMs: number },
  fire: (k: number, intendedWall: number) => Promise<void>,
): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.floor((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const startMono = performance.now();
  const startWall = wallNow();
  const latencies: number[] = [];
  const inflight = new Set<Promise<void>>();
  let errors = 0;
  let firstError: string | null = null;
  let maxLagMs = 0;
  for (let k = 0; k < total;) {
    const now = performance.now() - startMono;
    while (k < total && k * interval <= now) {
      maxLagMs = Math.max(maxLagMs, now - k * interval);
      const sentAt = performance.now();
      const p: Promise<void> = fire(k, startWall + k * interval).then(
        () => {
          latencies.push(performance.now() - sentAt);
        },
        (err: unknown) => {
          errors++;
          firstError ??= describe(err);
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      k++;
    }
    if (k < total) await sleep(Math.max(0, k * interval - (performance.now() - startMono)));
  }
  await Promise.all(inflight);
  return { scheduled: total, ok: latencies.length, errors, firstError, maxLagMs, latency: summarize(latencies) };
}
