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
