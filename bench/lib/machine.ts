import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import Redis from 'ioredis';
import { Client } from 'pg';
import { BENCH_ADMIN_DATABASE_URL, BENCH_REDIS_URL } from './env';
import { ROOT } from './parley-process';

/** The machine a run measured, as the report prints it. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  /** 1-minute load average when the scenario started (others' work on the machine shows here) */
  loadAverage: number;
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests while the scenario ran
   * ("steal" in /proc/stat), %; null where /proc/stat is not readable. A run with much steal is
   * a noisy run: the baselines and Parley lose CPU at random moments.
   */
  stealPercent?: number | null;
}

/** The machine's CPU time counters (/proc/stat, all CPUs), or null off Linux. */
export function cpuTimes(): { steal: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    return { steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * CPU time (s) of the PostgreSQL backends connected to `database` right now, from /proc (user +
 * system, at 100 ticks/s); 0 off Linux. Backends that exit between two readings take their time
 * with them: read it around work on long-lived connections (the instances' pools).
 */
export function databaseCpuSeconds(database: string): number {
  let ticks = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // a backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>"
      if (/^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmdline)?.[1] !== database) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // the process exited while being read
    }
  }
  return ticks / 100;
}

/** Steal between two {@link cpuTimes} readings, % of all CPU time, one decimal. */
export function stealBetween(from: ReturnType<typeof cpuTimes>, to: ReturnType<typeof cpuTimes>): number | null {
  if (!from || !to || to.total <= from.total) return null;
  return Math.round((1000 * (to.steal - from.steal)) / (to.total - from.total)) / 10;
}

/** Reads the machine, PostgreSQL and Redis versions. */
export async function machineInfo(): Promise<MachineInfo> {
  const pg = new Client({ connectionString: BENCH_ADMIN_DATABASE_URL });
  await pg.connect();
  const postgres = (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await pg.end();
  const redis = new Redis(BENCH_REDIS_URL);
  const info = await redis.info('server');
  redis.disconnect();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    postgres,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    loadAverage: Math.round(loadavg()[0] * 100) / 100,
  };
}

/** The commit measured, and whether src/ or migrations/ had uncommitted changes. */
export function gitInfo(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      dirty: git('status', '--porcelain', '--', 'src', 'migrations') !== '',
    };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
