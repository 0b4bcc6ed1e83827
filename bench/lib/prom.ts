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
