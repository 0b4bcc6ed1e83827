import { SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { getOperationAST, type ExecutionResult } from 'graphql';
import type { CompiledExecutor, OperationArgs } from './compiled-executor';

/**
 * `executor` with an OpenTelemetry span around each query and mutation, on both transports.
 * graphql-jit runs the operations, so `@opentelemetry/instrumentation-graphql` (which patches
 * graphql-js's `execute`) would not see them; the span is made here instead, named and attributed
 * after OpenTelemetry's GraphQL semantic conventions: `{type} {name}` (`query Me`; the type alone
 * for an anonymous operation), `graphql.operation.type`, `graphql.operation.name`. The span is
 * the active one while the operation runs, so PostgreSQL and Redis spans are its children. A
 * result with errors sets the span's status to ERROR (the first error's message); the document
 * text is not recorded (it may carry personal data inline).
 *
 * Used only when tracing is on (src/app/tracing.ts): without it the executor is not wrapped.
 */
export function traceExecutor(executor: CompiledExecutor, tracer: Tracer): CompiledExecutor {
  const traced =
    <R extends ExecutionResult | null>(run: (args: OperationArgs) => Promise<R>) =>
    (args: OperationArgs): Promise<R> => {
      const type = getOperationAST(args.document, args.operationName)?.operation ?? 'unknown';
      const name = args.operationName || undefined;
      const attributes = { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) };
      return tracer.startActiveSpan(name ? `${type} ${name}` : type, { attributes }, (span) =>
        run(args).then(
          (result) => {
            if (result?.errors?.length)
              span.setStatus({ code: SpanStatusCode.ERROR, message: result.errors[0].message });
            span.end();
            return result;
          },
          (err: unknown) => fail(span, err),
        ),
      );
    };
  return {
    execute: traced((args) => executor.execute(args)),
    executeCompiled: traced((args) => executor.executeCompiled(args)),
  };
}

/** Ends `span` as failed with `err`, and rethrows it. */
function fail(span: Span, err: unknown): never {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
  throw err;
}
