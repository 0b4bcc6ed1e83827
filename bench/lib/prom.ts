/** A parsed Prometheus text exposition: `name{labels}` (as written) to value. */
export type PromSamples = Map<string, number>;

/** Parses the text format of `/metrics` (comments skipped). */
export function parseProm(text: string): PromSamples {
  const samples: PromSamples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Sum of every sample of a metric whose labels include all of `labels`. */
export function promValue(samples: PromSamples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** Work counters of Parley instances, summed: CPU seconds (user + system) and SQL statements. */
export interface ServerCounters {
  cpuSeconds: number;
  queries: number;
}

/** Reads {@link ServerCounters} from the `/metrics` of each instance. */
export async function serverCounters(
  instances: ReadonlyArray<{ metrics(): Promise<PromSamples> }>,
): Promise<ServerCounters> {
  const all = await Promise.all(instances.map((i) => i.metrics()));
  return {
    cpuSeconds: all.reduce((s, m) => s + promValue(m, 'parley_process_cpu_seconds_total'), 0),
    queries: all.reduce((s, m) => s + promValue(m, 'parley_db_queries_total'), 0),
  };
}

/** What happened between two readings, per unit of work (e.g. per send, per delivery). */
export function perUnit(
  before: ServerCounters,
  after: ServerCounters,
  units: number,
): { cpuMs: number; queries: number } {
  const n = Math.max(1, units);
  return { cpuMs: ((after.cpuSeconds - before.cpuSeconds) * 1000) / n, queries: (after.queries - before.queries) / n };
}

/** The cumulative buckets of a histogram (`<name>_bucket{le="…"}`), summed over its other labels, by upper bound. */
export function histogramBuckets(samples: PromSamples, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  return buckets;
}

/**
 * The `q` quantile (0..1) of what a histogram observed between two readings, interpolated
 * linearly inside its bucket as Prometheus's `histogram_quantile` does (so it is only as fine as
 * the buckets). @returns the quantile in the histogram's unit and the observation count, or
 * null when nothing was observed.
 */
export function histogramQuantile(
  before: PromSamples,
  after: PromSamples,
  name: string,
  q: number,
): { value: number; count: number } | null {
  const b = histogramBuckets(before, name);
  const bounds = [...histogramBuckets(after, name)].map(([bound, n]) => [bound, n - (b.get(bound) ?? 0)] as const);
  bounds.sort((x, y) => x[0] - y[0]);
  const count = bounds.length ? bounds[bounds.length - 1][1] : 0;
  if (count <= 0) return null;
  const rankAt = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, n] of bounds) {
    if (n >= rankAt) {
      // above the highest finite bucket: its lower bound is all a histogram can say
      if (bound === Infinity) return { value: lowerBound, count };
      const inBucket = n - lowerCount;
      return { value: lowerBound + (bound - lowerBound) * (inBucket ? (rankAt - lowerCount) / inBucket : 1), count };
    }
    lowerBound = bound;
    lowerCount = n;
  }
  return { value: lowerBound, count };
}
