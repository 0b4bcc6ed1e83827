import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/server';
import { eventually } from '../support/wait';

const root = join(__dirname, '..', '..');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'parley-start-'));
  // What prestart does; `npm start --ignore-scripts` below then runs the start script alone.
  const build = spawnSync('npm', ['run', 'prestart'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
}, 180_000);

afterAll(() => rm(dataDir, { recursive: true, force: true }));

it('stops the server gracefully, with no orphan, when npm start gets SIGTERM', async () => {
  const port = await freePort();
  const npm = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that the test can end whatever is left of it (an orphan) at the end.
    detached: true,
  });
  let output = '';
  npm.stdout.on('data', (chunk) => (output += chunk));
  npm.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const ready = () =>
    fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  try {
    await eventually(ready, 60_000, 'npm start ready', 200);
    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('Parley stopped');
    // Nothing serves the port any more: the server did not outlive npm.
    expect(await ready()).toBe(false);
  } finally {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // the group is gone: nothing left
    }
  }
}, 90_000);
