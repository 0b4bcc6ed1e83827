import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import type { ParleyServer } from '../../src/app/server';
import { Subscription, wsClient, type TestUser } from './clients';
import { TestCluster } from './server';

/** Something a test opened and must close: a socket, a subscription, a child process. */
export type Disposable = { dispose: () => unknown };

/**
 * Registers the jest hooks of a test file that runs against two instances, A and B, of one
 * cluster (shared PostgreSQL and Redis). `keep` hands over what a test opens; it is disposed after
 * that test. Read `a`, `b` and `cluster` in a later `beforeAll` or in the tests.
 */
export function useTwoInstances(overrides: Record<string, string> = {}) {
  const disposables: Disposable[] = [];
  const setup = {
    cluster: null as unknown as TestCluster,
    a: null as unknown as ParleyServer,
    b: null as unknown as ParleyServer,
    keep<T extends Disposable>(d: T): T {
      disposables.push(d);
      return d;
    },
    async disposeAll() {
      await Promise.all(disposables.splice(0).map((d) => d.dispose()));
    },
  };
  beforeAll(async () => {
    setup.cluster = await TestCluster.create();
    setup.a = await setup.cluster.start(overrides);
    setup.b = await setup.cluster.start(overrides);
  });
  afterEach(() => setup.disposeAll());
  afterAll(() => setup.cluster.stop());
  return setup;
}

/** Kinds of the `parley_state_streams` gauge. */
export type StreamKind = 'presence' | 'typing' | 'readReceipt';

/** An instance in this process (a {@link ParleyServer}) or in a child process (no `metrics`). */
export type Instance = Pick<ParleyServer, 'url' | 'wsUrl'> & Partial<Pick<ParleyServer, 'metrics'>>;

/** Live presenceChanged / typing / readReceipt streams on an instance (set up and subscribed). */
export async function liveStreams(server: Instance, kind: StreamKind): Promise<number> {
  if (server.metrics) {
    const { values } = await server.metrics.liveStateStreams.get();
    return values.find((v) => v.labels.kind === kind)?.value ?? 0;
  }
  const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`parley_state_streams{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * Subscribes and waits until the server has set the stream up (or it failed), so that an event
 * published now must be delivered: graphql-ws has no "subscribed" acknowledgement.
 */
export async function subscribeLive<T>(
  server: Instance,
  client: Client,
  kind: StreamKind,
  document: TypedDocumentNode<T, any>,
  variables: Record<string, unknown> = {},
): Promise<Subscription<T>> {
  const before = await liveStreams(server, kind);
  const sub = new Subscription<T>(client, document, variables);
  const deadline = Date.now() + 10_000;
  while ((await liveStreams(server, kind)) <= before && sub.errors.length === 0) {
    if (Date.now() > deadline) throw new Error(`no ${kind} stream was set up`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return sub;
}

/** A graphql-ws client of `user` whose connection is acknowledged (so its presence is registered). */
export async function connected(server: Pick<Instance, 'wsUrl'>, user: TestUser): Promise<Client & { closed: Promise<unknown> }> {
  const client = wsClient(server as ParleyServer, { authToken: user.token });
  await new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    void client.closed.then((c) => reject(new Error(`socket closed: ${JSON.stringify(c)}`)));
  });
  return client;
}

/** Runs a query or mutation over a graphql-ws connection; fails on errors. */
export function wsOk<T, V>(client: Client, document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let result: T | null = null;
    client.subscribe<T>(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (value) => {
          if (value.errors?.length) reject(new Error(JSON.stringify(value.errors)));
          else result = value.data as T;
        },
        error: reject,
        complete: () => (result ? resolve(result) : reject(new Error('no result'))),
      },
    );
  });
}

/** Polls `check` until it returns a truthy value. @returns that value and the time it took (ms). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A Parley instance in a child process (so that it can be killed with SIGKILL). */
export interface ChildInstance {
  url: string;
  wsUrl: string;
  process: ChildProcess;
  /** SIGKILL: no disconnect handler, no shutdown, nothing. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `src/main.ts` (ts-node, transpile only) with `env` and waits for `/readyz`.
 * @param env - the complete environment of the instance (e.g. `cluster.env({ PORT })`); PORT must be fixed.
 */
export async function startChild(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildInstance> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: `${__dirname}/../..`,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `127.0.0.1:${env.PORT}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`child instance exited: ${stderr}`);
    const ready = await fetch(`http://${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`child instance not ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://${base}/graphql`,
    wsUrl: `ws://${base}/graphql`,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
