import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './server';
import { eventually } from './wait';

/** A redis-server of one test's own, on a free loopback port (no other test's traffic reaches it). */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills it (SIGKILL): as an outage looks to its clients. */
  kill(): void;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

/** `true` once something accepts TCP connections on the loopback port. */
export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts `redis-server` (no persistence) and waits until it accepts connections. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const launch = async () => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await eventually(() => listening(port), 10_000, 'redis-server accepting connections');
    return child;
  };
  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => child.kill('SIGKILL'),
    async restart() {
      child = await launch();
    },
  };
}
