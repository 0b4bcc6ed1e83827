import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/config';

/** OpenTelemetry tracing of one process, as {@link startTracing} started it. */
export interface Tracing {
  /** Parley's own spans (GraphQL operations: src/execution/traced-executor.ts). */
  tracer: Tracer;
  /** Exports the spans still buffered and stops the SDK (after the server has stopped). */
  shutdown(): Promise<void>;
}

/** Requests that are not worth a trace: Prometheus scrapes and health checks. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * Starts the OpenTelemetry Node SDK when `config.tracing` is set (OTEL_EXPORTER_OTLP_ENDPOINT),
 * with the instrumentations of `http` (incoming requests but scrapes and health checks, and
 * outgoing ones), `pg` and `ioredis` (their spans only under another span: background work such
 * as presence heartbeats makes no root spans), and exports spans over OTLP as the standard
 * `OTEL_*` variables say (http/protobuf by default). Metrics stay with Prometheus and logs with
 * pino: the SDK's metric and log exporters are not started.
 *
 * Instrumentation patches modules as they are first required, so this must run before anything
 * requires `pg`, `ioredis` or the HTTP server (src/main.ts awaits it first, then requires the
 * server). Unset, it returns `null` having loaded nothing: no SDK, no patched module; Parley's
 * own span code is then not wired in either.
 */
export async function startTracing(config: Pick<Config, 'tracing'>): Promise<Tracing | null> {
  if (!config.tracing) return null;
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }, { trace }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/api'),
    ]);
  const sdk = new NodeSDK({
    serviceName: config.tracing.serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?', 1)[0]),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { tracer: trace.getTracer('parley'), shutdown: () => sdk.shutdown() };
}
