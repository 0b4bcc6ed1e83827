import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine';
import type { ProfileSummary } from './cpu-profile';
import type { Chart } from './svg';

/** Where results, charts and the report go. */
export const RESULTS_DIR = join(__dirname, '..', 'results');

/** A target from the issue, and whether this run met it. */
export interface Target {
  /** e.g. `ratio >= 0.5`, `<= 25 ms` */
  text: string;
  met: boolean;
}

/** One reported figure, next to its baseline measured in the same run. */
export interface Figure {
  label: string;
  unit: string;
  value: number | null;
  baseline: number | null;
  /** value / baseline */
  ratio: number | null;
  /** what the baseline is, in a few words */
  baselineLabel?: string;
  /** the same figure measured on the textbook peer (bench/peers/textbook) in the same run, if measured */
  peer?: number | null;
  /** value / peer */
  peerRatio?: number | null;
  target?: Target;
}

/** The names of the scenarios, in run order. */
export const SCENARIOS = [
  'send',
  'e2e',
  'fanout',
  'connections',
  'history',
  'notifications',
  'groups',
  'reconnect',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/**
 * Runs that compare two builds of Parley instead of Parley with a baseline (`npm run bench:compare`):
 * not part of `npm run bench`, nor of the report.
 */
export const COMPARISONS = ['compare'] as const;
export type RunName = ScenarioName | (typeof COMPARISONS)[number];

/** What a scenario module returns. */
export interface ScenarioOutput {
  title: string;
  /** the sizes used, after defaults */
  options: Record<string, unknown>;
  figures: Figure[];
  charts: Chart[];
  /** everything measured, for reading the JSON */
  details: unknown;
  /** short remarks for the report (how to read a figure, anomalies) */
  notes: string[];
}

/** One run of one scenario, as written to `results/<timestamp>-<scenario>.json`. */
export interface ScenarioResult extends ScenarioOutput {
  scenario: RunName;
  startedAt: string;
  wallSeconds: number;
  command: string;
  /** `true` when the servers ran under `--cpu-prof` (figures are then slower than normal) */
  profiled: boolean;
  quick: boolean;
  /** `default`: the instances ran the shipped safety limits (`--safety default`); absent or `raised`: limits out of the way */
  safety?: 'raised' | 'default';
  flags: Record<string, string>;
  machine: MachineInfo;
  git: { commit: string; dirty: boolean };
  warnings: string[];
  profiles: ProfileSummary[];
}

/** `value / baseline`, or null when either is missing. */
export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0)
    return null;
  return value / baseline;
}

/** A figure with its ratio computed. */
export function figure(f: Omit<Figure, 'ratio' | 'peerRatio'>): Figure {
  return {
    ...f,
    ratio: ratio(f.value, f.baseline),
    ...(f.peer !== undefined ? { peerRatio: ratio(f.value, f.peer) } : {}),
  };
}

/** Writes a result file; @returns its path. */
export function writeResult(result: ScenarioResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const suffix = `${result.profiled ? '-profiled' : ''}${result.safety === 'default' ? '-safety-default' : ''}`;
  const file = join(RESULTS_DIR, `${stamp}-${result.scenario}${suffix}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/** The names of the result files, oldest first. */
function resultFiles(): string[] {
  try {
    return readdirSync(RESULTS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

const readResult = (file: string) => JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as ScenarioResult;

/** Every result file, oldest first. */
export function readResults(): ScenarioResult[] {
  return resultFiles().map(readResult);
}

/**
 * Deletes every result file but the newest non-`--quick` one of each scenario, profiled and not
 * (what the report then reads), and every comparison's. @returns the deleted file names.
 */
export function pruneResults(): string[] {
  const files = resultFiles();
  const keep = new Map<string, string>();
  for (const file of files) {
    const r = readResult(file);
    if (!r.quick && !(COMPARISONS as readonly string[]).includes(r.scenario))
      keep.set(`${r.scenario}${r.profiled ? '-profiled' : ''}${r.safety === 'default' ? '-safety-default' : ''}`, file);
  }
  const kept = new Set(keep.values());
  const deleted = files.filter((f) => !kept.has(f));
  for (const file of deleted) unlinkSync(join(RESULTS_DIR, file));
  return deleted;
}
