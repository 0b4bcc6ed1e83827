import type { ChildProcess } from 'node:child_process';

/**
 * Every child process the harness started (Parley instances, load generators, baseline servers),
 * so that a failed or interrupted run can end exactly those, by pid.
 */
const live = new Set<ChildProcess>();

/** Remembers a child until it exits. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Kills every child still running (SIGKILL by default) and waits briefly for them to go. */
export async function killChildren(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const waiting = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(resolve, 3000).unref();
      }),
  );
  await Promise.all(waiting);
}
