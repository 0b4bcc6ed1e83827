import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './parley-process';

/** Newest modification time (ms) of the `.ts` files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(join(ROOT, 'dist', 'src', 'main.js')).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Makes sure `dist/src/main.js` is newer than every source of the server (src/, migrations/),
 * running `npm run build` otherwise. tsc emits even when some file elsewhere in the project has a
 * type error, so a failing build whose server output was refreshed is reported and accepted.
 *
 * @returns a warning to put in the results, or null.
 * @throws when the build produced no fresh server.
 */
export function ensureBuilt(log: (line: string) => void): string | null {
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'migrations')));
  if (builtAt() > sources) return null;
  log('building the server (npm run build) ...');
  const started = Date.now();
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status === 0) return null;
  if (builtAt() < started) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
  const warning = `npm run build reported errors but emitted the server:\n${(result.stdout + result.stderr).slice(0, 2000)}`;
  log(warning);
  return warning;
}
