import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConversationsDocument, SendMessageDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { useInstances, type ChildInstance } from '../support/server';
import { eventually } from '../support/wait';

/** A span as OTLP/HTTP JSON carries it (the fields read here). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server, 3 client */
  kind: number;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

/** The database a client span talks to (`db.system.name`, `db.system` in older conventions). */
const dbSystem = (span: OtlpSpan) => attribute(span, 'db.system.name') ?? attribute(span, 'db.system');

/** A tiny OTLP/HTTP collector: keeps every span POSTed as JSON to /v1/traces. */
function startCollector(): Promise<{ server: Server; endpoint: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        const data = JSON.parse(body) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const resource of data.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans }),
    ),
  );
}

const setup = useInstances(0);
let collector: Awaited<ReturnType<typeof startCollector>>;
let child: ChildInstance;

beforeAll(async () => {
  collector = await startCollector();
  child = await setup.cluster.startChild({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'parley-test',
    // Export within 100 ms rather than the default 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
}, 90_000);
afterAll(() => new Promise((resolve) => collector.server.close(resolve)));

it('exports spans of HTTP requests, GraphQL operations by name and PostgreSQL queries', async () => {
  const alice = await buildUser(child);
  const bob = await buildUser(child);
  const conversation = await buildConversation(child, alice, bob);
  await ok(child, SendMessageDocument, { input: { conversationId: conversation.id, body: 'traced' } }, alice.token);
  await ok(child, ConversationsDocument, { first: 5 }, alice.token);

  const named = (name: string) => collector.spans.find((s) => s.name === name);
  await eventually(() => !!named('query Conversations') && !!named('mutation SendMessage'), 15_000, 'GraphQL spans');
  const query = named('query Conversations')!;
  expect(attribute(query, 'graphql.operation.name')).toBe('Conversations');
  expect(attribute(query, 'graphql.operation.type')).toBe('query');
  expect(attribute(named('mutation SendMessage')!, 'graphql.operation.name')).toBe('SendMessage');

  // The HTTP request's server span is the operation's parent.
  const request = collector.spans.find((s) => s.spanId === query.parentSpanId);
  expect(request?.kind).toBe(2);
  expect(attribute(request!, 'http.request.method') ?? attribute(request!, 'http.method')).toBe('POST');

  // PostgreSQL queries of the operation are its children (client spans in its trace).
  await eventually(
    () => collector.spans.some((s) => s.parentSpanId === query.spanId && dbSystem(s) === 'postgresql'),
    10_000,
    'a pg span under the query',
  );
  // Redis commands under an operation too (the send's rate limit, sessions, the publish).
  await eventually(
    () => collector.spans.some((s) => dbSystem(s) === 'redis' && s.kind === 3),
    10_000,
    'an ioredis span',
  );
  // Scrapes and health checks make no traces (the child was polled on /readyz until ready).
  expect(
    collector.spans.some((s) => attribute(s, 'url.path') === '/readyz' || attribute(s, 'http.target') === '/readyz'),
  ).toBe(false);
}, 60_000);

it('loads no OpenTelemetry SDK and patches nothing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  // What src/main.ts does before serving, in a fresh process: start tracing, then require the server.
  const probe = (env: Record<string, string>) => {
    const script = `
      require('reflect-metadata');
      const { loadConfig } = require('./src/config/config');
      require('./src/app/tracing').startTracing(loadConfig()).then(async (tracing) => {
        require('./src/app/server');
        const loaded = Object.keys(require.cache).filter((p) => /@opentelemetry[\\\\/](sdk-|instrumentation)|require-in-the-middle/.test(p));
        console.log(JSON.stringify({ tracing: tracing !== null, loaded: loaded.length }));
        await tracing?.shutdown();
      });`;
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0 || !run.stdout.trim())
      throw new Error(`probe failed (${run.status} ${run.signal}): ${run.stdout} ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as { tracing: boolean; loaded: number };
  };
  expect(probe({})).toEqual({ tracing: false, loaded: 0 });
  // The check sees the SDK when it is loaded.
  const on = probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  expect(on.tracing).toBe(true);
  expect(on.loaded).toBeGreaterThan(0);
}, 120_000);
