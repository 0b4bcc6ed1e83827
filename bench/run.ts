import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './lib/build';
import { killChildren } from './lib/children';
import type { Scenario, ScenarioContext } from './lib/context';
import { summarizeProfile, type ProfileSummary } from './lib/cpu-profile';
import { Flags } from './lib/flags';
import { cpuTimes, gitInfo, machineInfo, stealBetween } from './lib/machine';
import type { ParleyLaunch } from './lib/parley-process';
import { writeReport } from './lib/report';
import { COMPARISONS, pruneResults, SCENARIOS, writeResult, type RunName } from './lib/results';
import { BenchStack } from './lib/stack';
import type { Handlers } from './lib/worker-host';
import { WorkerProcess, type WorkerOptions } from './lib/workers';
import { compare } from './scenarios/compare';
import { connections } from './scenarios/connections';
import { e2e } from './scenarios/e2e';
import { fanout } from './scenarios/fanout';
import { groups } from './scenarios/groups';
import { history } from './scenarios/history';
import { notifications } from './scenarios/notifications';
import { reconnect } from './scenarios/reconnect';
import { send } from './scenarios/send';

/**
 * `npm run bench` (every scenario), `npm run bench:<scenario>`, `npm run bench:report`.
 * Usage: ts-node --transpile-only bench/run.ts <all|send|e2e|fanout|connections|history|notifications|groups|reconnect|compare|report> [--flags]
 * (`report --prune` first deletes every result file but the newest non-quick one per scenario;
 * `compare --against DIR` measures this build beside another checkout's, and is not part of `all`).
 */
const scenarios: Record<RunName, Scenario> = {
  send,
  e2e,
  fanout,
  connections,
  history,
  notifications,
  groups,
  reconnect,
  compare,
};

/** Default --timeout of the scenarios that start 10,000 clients three times over (Parley, peer, bare). */
const TIMEOUT_S: Partial<Record<RunName, number>> = { groups: 400, reconnect: 400 };

const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

/** Stacks not yet disposed, so that an interrupted run still drops its databases. */
const openStacks = new Set<BenchStack>();

async function runScenario(
  name: RunName,
  flags: Flags,
  launch: ParleyLaunch,
  git: { commit: string; dirty: boolean },
): Promise<boolean> {
  const scoped = flags.forScenario(name);
  const warnings: string[] = [];
  const workers: Array<WorkerProcess<Handlers>> = [];
  const stacks: BenchStack[] = [];
  const ctx: ScenarioContext = {
    flags: scoped,
    launch: { ...launch, profileName: name },
    log: (line) => log(`${name}: ${line}`),
    warn: (line) => {
      warnings.push(line);
      log(`${name}: WARNING ${line}`);
    },
    async stack() {
      const stack = await BenchStack.create(name, { ...launch, profileName: name });
      stacks.push(stack);
      openStacks.add(stack);
      return stack;
    },
    async worker<H extends Handlers>(file: string, workerName: string, options?: WorkerOptions) {
      const worker = await WorkerProcess.start<H>(file, workerName, options);
      workers.push(worker);
      return worker;
    },
  };
  const machine = await machineInfo();
  const cpuAtStart = cpuTimes();
  const startedAt = new Date().toISOString();
  const started = Date.now();
  const timeoutS = scoped.number('timeout', TIMEOUT_S[name] ?? 240);
  log(`${name}: starting (load average ${machine.loadAverage})`);
  let ok = true;
  let output;
  try {
    output = await Promise.race([
      scenarios[name](ctx),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`timed out after ${timeoutS} s (--timeout)`)), timeoutS * 1000).unref(),
      ),
    ]);
  } catch (err) {
    ok = false;
    log(`${name}: FAILED ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    for (const stack of stacks) {
      await stack.dispose().catch((err: unknown) => log(`${name}: cleaning up failed: ${String(err)}`));
      openStacks.delete(stack);
    }
  }
  if (!output) return false;
  machine.stealPercent = stealBetween(cpuAtStart, cpuTimes());
  if (machine.stealPercent !== null && machine.stealPercent >= 5)
    warnings.push(`the hypervisor took ${machine.stealPercent}% of the CPU time during the run (steal): a noisy run`);
  const profiles: ProfileSummary[] = [];
  for (const instance of stacks.flatMap((s) => s.started)) {
    if (instance.profilePath && existsSync(instance.profilePath)) {
      profiles.push(summarizeProfile(instance.profilePath, instance.name));
      log(`${name}: CPU profile of ${instance.name}: ${instance.profilePath}`);
    }
  }
  for (const instance of stacks.flatMap((s) => s.started)) {
    if (instance.logLines > 0)
      warnings.push(`Parley ${instance.name} wrote ${instance.logLines} warning/error lines (LOG_LEVEL=warn)`);
  }
  const [what, ...rest] = process.argv.slice(2);
  const args = rest.join(' ');
  const file = writeResult({
    ...output,
    scenario: name,
    startedAt,
    wallSeconds: Math.round((Date.now() - started) / 1000),
    command: `npm run ${what === 'all' ? 'bench' : `bench:${name}`}${args ? ` -- ${args}` : ''}`,
    profiled: launch.profileDir !== null,
    quick: scoped.quick,
    safety: launch.safety,
    flags: scoped.toJSON(),
    machine,
    git,
    warnings,
    profiles,
  });
  log(
    `${name}: done in ${Math.round((Date.now() - started) / 1000)} s (CPU steal ${machine.stealPercent ?? '–'}%), wrote ${file}`,
  );
  for (const f of output.figures) {
    log(
      `${name}:   ${f.label}: ${f.value === null ? '–' : Number(f.value.toPrecision(4))} ${f.unit}` +
        (f.baseline !== null
          ? ` | baseline ${Number(f.baseline.toPrecision(4))} | ratio ${f.ratio === null ? '–' : f.ratio.toFixed(2)}`
          : '') +
        (f.peer != null
          ? ` | peer ${Number(f.peer.toPrecision(4))} | Parley/peer ${f.peerRatio == null ? '–' : f.peerRatio.toFixed(2)}`
          : '') +
        (f.target ? ` | target ${f.target.text}: ${f.target.met ? 'met' : 'NOT met'}` : ''),
    );
  }
  return ok;
}

async function main(): Promise<number> {
  const flags = Flags.parse(process.argv.slice(2));
  const what = flags.positional[0] ?? 'all';
  if (what === 'report') {
    if (flags.bool('prune')) for (const file of pruneResults()) log(`deleted ${file}`);
    log(`wrote ${writeReport()}`);
    return 0;
  }
  const names: RunName[] =
    what === 'all'
      ? [...SCENARIOS]
      : ([...SCENARIOS, ...COMPARISONS] as readonly string[]).includes(what)
        ? [what as RunName]
        : [];
  if (!names.length) {
    log(`unknown scenario ${what}; use all, ${[...SCENARIOS, ...COMPARISONS].join(', ')} or report`);
    return 2;
  }
  const mode = flags.bool('ts-node') ? 'ts-node' : 'built';
  // The commit of the build: others may commit while the scenarios run.
  const git = gitInfo();
  if (mode === 'built') ensureBuilt(log);
  let profileDir: string | null = null;
  if (flags.bool('profile')) {
    profileDir = flags.get('profile-dir') ?? join(tmpdir(), 'parley-bench-profiles');
    mkdirSync(profileDir, { recursive: true });
  }
  const safetyFlag = flags.get('safety') ?? process.env.BENCH_SAFETY ?? 'raised';
  if (safetyFlag !== 'raised' && safetyFlag !== 'default') {
    log(`--safety (BENCH_SAFETY) must be raised or default, got ${safetyFlag}`);
    return 2;
  }
  const safety: ParleyLaunch['safety'] = safetyFlag;
  let failures = 0;
  for (const name of names) {
    if (
      !(await runScenario(
        name,
        flags,
        { mode, profileDir, profileName: name, nodeEnv: flags.get('node-env') ?? 'production', safety },
        git,
      ))
    )
      failures++;
  }
  log(`report: ${writeReport()}`);
  return failures ? 1 : 0;
}

async function interrupted(signal: string): Promise<void> {
  log(`${signal}: stopping children and dropping bench databases`);
  await killChildren();
  for (const stack of openStacks) await stack.dispose().catch(() => undefined);
  process.exit(130);
}
process.once('SIGINT', () => void interrupted('SIGINT'));
process.once('SIGTERM', () => void interrupted('SIGTERM'));

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await killChildren();
    process.exit(1);
  },
);
