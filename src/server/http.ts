import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import type { Context } from '../shared/context';
import { bearerToken } from './bearer';
import { executorGateway } from './compiled-execution';
import type { ErrorFormatter } from './format-error';
import { createRequestContext, type TransportDeps } from './request-context';

/** What the HTTP side needs from the composition root. */
export interface HttpDeps extends TransportDeps {
  /** Readiness: resolves to the failing checks (empty when ready). */
  readiness: () => Promise<string[]>;
}

/**
 * Builds Apollo Server (executing with graphql-jit: createCompiledExecutor in compiled-execution.ts) and the
 * express app: `POST /graphql` (queries and mutations),
 * `GET /healthz`, `GET /readyz`, `GET /metrics`. A presented but invalid token is answered with
 * 401 UNAUTHENTICATED before any resolver runs; no token means an anonymous request.
 */
export async function createHttpApp(deps: HttpDeps) {
  const apollo = new ApolloServer<Context>({
    // The schema, with operations executed by graphql-jit (see createCompiledExecutor).
    gateway: executorGateway(deps.schema, deps.executor),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM/SIGINT: Apollo's own handler would stop Apollo alone and re-raise the
    // signal, killing the process before sockets close with 1001 and pools drain.
    stopOnTerminationSignals: false,
    // urql sends queries as GET without Apollo's preflight headers. A request that carries an
    // Authorization header cannot be a "simple" cross-site request (browsers preflight it), so it
    // passes the CSRF check too (Apollo Server docs, "Preventing Cross-Site Request Forgery").
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    formatError: (formatted, error) => deps.formatError(error, formatted),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: deps.httpServer }),
      // Parley sets no cache hints; the plugin would still wrap every field resolver (1.7% of the
      // CPU on history pages, more with the per-field instrumentation it switches on).
      ApolloServerPluginCacheControlDisabled(),
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ operation }) {
              deps.metrics.operations.inc({ transport: 'http', type: operation?.operation ?? 'unknown' });
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  // No ETag: express hashed every answer (SHA-1 of a 15 KB history page, 1.3% of a page's CPU)
  // for a validator no GraphQL client sends back; answers are per viewer and change with each message.
  app.set('etag', false);
  // First, so that the router tries one layer for the requests that matter.
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<Context> => {
        const header = req.headers.authorization;
        const authed = header ? await deps.auth.authenticate(bearerToken(header) ?? '', { remember: true }) : null;
        const requestId = req.headers['x-request-id'];
        return createRequestContext(deps, authed, { cache: true, requestId: typeof requestId === 'string' && requestId ? requestId : undefined });
      },
    }),
    requestErrors(deps.formatError),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const failing = await deps.readiness();
    res.status(failing.length ? 503 : 200).json({ status: failing.length ? 'unavailable' : 'ok', failing });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return { app, apollo };
}

/** Messages for body-parser's client errors, by their `type` (http-errors from raw-body and body-parser). */
const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON',
  'entity.too.large': 'The request body is larger than 1 MB',
  'entity.verify.failed': 'The request body was refused',
  'request.aborted': 'The request was aborted',
  'charset.unsupported': 'Unsupported charset: send UTF-8 JSON',
  'encoding.unsupported': 'Unsupported content encoding',
};

/**
 * The error handler of `/graphql`: a body that could not be read (malformed JSON, over 1 MB, a
 * charset other than UTF-8) is answered as GraphQL-over-HTTP clients read errors, JSON
 * `{ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }` with body-parser's status
 * (400, 413, 415), not express's HTML error page. Anything else goes through the error formatter:
 * logged, and answered 500 INTERNAL_SERVER_ERROR.
 */
function requestErrors(formatError: ErrorFormatter): ErrorRequestHandler {
  return (err: { status?: unknown; expose?: unknown; type?: unknown; message?: unknown }, _req, res, _next) => {
    const clientError = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 && err.expose === true;
    const error = clientError
      ? new GraphQLError(BODY_ERRORS[String(err.type)] ?? String(err.message), { extensions: { code: 'BAD_REQUEST' } })
      : err;
    res.status(clientError ? (err.status as number) : 500).json({ errors: [formatError(error)] });
  };
}
