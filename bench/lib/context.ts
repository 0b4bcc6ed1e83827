import type { Flags } from './flags';
import type { ParleyLaunch } from './parley-process';
import type { ScenarioOutput } from './results';
import type { BenchStack } from './stack';
import type { Handlers } from './worker-host';
import type { WorkerOptions, WorkerProcess } from './workers';

/** What the orchestrator gives a scenario; everything it starts is stopped for it afterwards. */
export interface ScenarioContext {
  /** the flags, as this scenario sees them (scoped ones first) */
  flags: Flags;
  launch: ParleyLaunch;
  /** progress on stderr */
  log: (line: string) => void;
  /** a remark that goes into the result's warnings (and stderr) */
  warn: (line: string) => void;
  /** a fresh database and Redis prefix, dropped after the scenario */
  stack(): Promise<BenchStack>;
  /** a load-generator or baseline process (`bench/workers/<file>`), stopped after the scenario */
  worker<H extends Handlers>(file: string, name: string, options?: WorkerOptions): Promise<WorkerProcess<H>>;
}

/** A scenario: measures, and returns its figures and charts. */
export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioOutput>;
