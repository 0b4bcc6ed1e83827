import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that are read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or package. */
export interface SelfTime {
  name: string;
  /** file:line, or the package */
  where: string;
  ms: number;
  /** share of the busy (non-idle) time, % */
  pct: number;
}

/** The top of one server's CPU profile. */
export interface ProfileSummary {
  instance: string;
  file: string;
  /** profiled wall time, ms */
  wallMs: number;
  /** sampled time that was not idle, ms */
  busyMs: number;
  topFunctions: SelfTime[];
  topPackages: SelfTime[];
}

/** The package a script belongs to: `graphql`, `@apollo/server`, `parley` (our code), `node:internal` ... */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node (internals)';
  if (/\/(dist\/)?(src|migrations)\//.test(url)) return 'parley';
  return url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.search(/\/(dist\/)?src\//);
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per package of a `.cpuprofile`: each sample's time delta is charged
 * to the function on top of the stack when it was taken. `(idle)` is left out of the shares.
 */
export function summarizeProfile(path: string, instance: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, SelfTime>();
  const packages = new Map<string, SelfTime>();
  let busy = 0;
  for (const [id, us] of selfByNode) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const fkey = `${name}@${where}`;
    const f = functions.get(fkey) ?? { name, where, ms: 0, pct: 0 };
    f.ms += us / 1000;
    functions.set(fkey, f);
    const pkg = packageOf(url, functionName);
    const p = packages.get(pkg) ?? { name: pkg, where: '', ms: 0, pct: 0 };
    p.ms += us / 1000;
    packages.set(pkg, p);
  }
  const finish = (list: Iterable<SelfTime>) =>
    [...list]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((s) => ({ ...s, ms: Math.round(s.ms), pct: Math.round((s.ms / (busy / 1000)) * 1000) / 10 }));
  return {
    instance,
    file: basename(path),
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busy / 1000),
    topFunctions: finish(functions.values()),
    topPackages: finish(packages.values()),
  };
}
