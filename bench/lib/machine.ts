import { execFileSync } from 'node:child_process';
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
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'src', 'migrations') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}
