import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import bodyParser from 'body-parser';
import cors from 'cors';
import express from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { CompiledExecutor } from '../execution/compiled-executor';
import { bearerToken } from '../shared/bearer';
import type { Authenticated, Authenticator, Context } from '../shared/context';
import { DomainError } from '../shared/errors';
import type { ErrorFormatter } from '../shared/format-error';
import type { RedisKeyValueCache } from '../redis/redis-kv-cache';
import { serviceUnavailable } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { OperationGuard } from '../shared/operation-guard';
import type { OriginPolicy } from '../shared/origin-policy';
import { isUnavailableError } from '../shared/unavailable';
import { compiledExecutionPlugin } from './apollo-execution-plugin';
import { createExplorer, EXPLORER_ASSETS_PATH } from './explorer';
import { guardPlugin } from './guard-plugin';
import { webClient } from './web-client';

/** What the HTTP transport needs from the composition root. */
export interface HttpDeps {
  schema: GraphQLSchema;
  /** Executes queries and mutations (graphql-jit, shared with the WebSocket transport). */
  executor: CompiledExecutor;
  authenticator: Authenticator;
  /** The context of one request (src/app/context.ts); loaders cache for the request. */
  createContext: (
    auth: Authenticated | null,
    options: { cache: boolean; requestId?: string; clientIp?: string; authFailure?: Error },
  ) => Context;
  metrics: Metrics;
  formatError: ErrorFormatter;
  /** Readiness: resolves to the failing checks (empty when ready). */
  readiness: () => Promise<string[]>;
  /** The limits of every operation (the same guard as the WebSocket transport's). */
  guard: OperationGuard;
  /** Largest request body, bytes (413 above). */
  maxBodyBytes: number;
  /** Folder of the built web client served at `/` (see web-client.ts); null serves none. */
  webDir?: string | null;
  /** Browser origins allowed (CORS); shared with the WebSocket transport. */
  origins: OriginPolicy;
  /** Serve the explorer (explorer.ts) at `GET /graphql` for browsers. */
  explorer: boolean;
  /** One info line per request. */
  log: Logger;
  /** Where persisted queries (APQ) are kept: shared by every instance; `null`: in this process's memory. */
  persistedQueries: { cache: RedisKeyValueCache; ttl: number } | null;
}

/** An X-Request-Id value kept as it is; anything else is replaced by a new UUID. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Request headers a browser page may send (CORS preflight). */
const CORS_HEADERS = ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight'];

/**
 * Builds Apollo Server (executing with graphql-jit, see apollo-execution-plugin.ts) and the HTTP
 * request listener of the instance:
 * - `/graphql` (POST for queries and mutations, GET for queries) goes to Apollo Server the way
 *   `@apollo/server/standalone`'s `startStandaloneServer` serves it: body-parser's JSON reader,
 *   then `executeHTTPGraphQLRequest` on the bare `node:http` request. No token, or one that is
 *   refused, makes an anonymous request: `login` and `register` work whatever header comes with
 *   them, and a protected field answers UNAUTHENTICATED with status 401 (auth-checker.ts).
 * - `GET /graphql` from a browser (Accept: text/html, no query) answers the explorer when it is on
 *   (explorer.ts), whose files are under `/explorer/`.
 * - everything else (`GET /healthz`, `GET /readyz`, `GET /metrics`, the web client at `/`, 404s)
 *   goes to an express app.
 *
 * `/graphql` does not pass through express: express 5 changes the prototype of every request and
 * response, which deoptimizes property access on them (expressjs/express#5998, nodejs/node#37457).
 */
export async function createHttpHandler(
  deps: HttpDeps,
): Promise<{ handler: RequestListener; apollo: ApolloServer<Context> }> {
  const apollo = new ApolloServer<Context>({
    schema: deps.schema,
    // Introspection is refused by the guard's validation rules (both transports alike).
    introspection: true,
    parseOptions: deps.guard.parseOptions,
    validationRules: [...deps.guard.validationRules],
    hideSchemaDetailsFromClientErrors: !deps.guard.fieldSuggestions,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM/SIGINT: Apollo's own handler would stop Apollo alone and re-raise the
    // signal, killing the process before sockets close with 1001 and pools drain.
    stopOnTerminationSignals: false,
    // urql sends queries as GET without Apollo's preflight headers. A request that carries an
    // Authorization header cannot be a "simple" cross-site request (browsers preflight it), so it
    // passes the CSRF check too (Apollo Server docs, "Preventing Cross-Site Request Forgery").
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    formatError: (formatted, error) => deps.formatError(error, formatted),
    ...(deps.persistedQueries ? { persistedQueries: deps.persistedQueries } : {}),
    plugins: [
      // No drain plugin: its tracker keeps a `close` listener and a Map entry per connection,
      // WebSockets included, for the connection's life; closeHttpServer drains instead.
      // Parley sets no cache hints; the plugin would still wrap every field resolver (1.7% of the
      // CPU on history pages, more with the per-field instrumentation it switches on).
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's landing pages load from a CDN: Parley serves its own explorer, or none.
      ApolloServerPluginLandingPageDisabled(),
      // Queries and mutations run on graphql-jit (see compiledExecutionPlugin); it also counts them.
      compiledExecutionPlugin(deps.executor, deps.formatError, deps.metrics),
      guardPlugin(deps.guard),
    ],
  });
  await apollo.start();

  const contextOf = async (req: IncomingMessage): Promise<Context> => {
    const header = req.headers.authorization;
    let authed: Authenticated | null = null;
    let authFailure: DomainError | undefined;
    if (header) {
      try {
        authed = await deps.authenticator.authenticate(bearerToken(header) ?? '', { remember: true });
      } catch (err) {
        // Apollo answers a context error with its `extensions.http` status: 503, not 500.
        if (isUnavailableError(err)) throw serviceUnavailable();
        // A refused token makes the request anonymous (login and register still work); protected
        // fields then answer with the refusal (auth-checker.ts).
        if (!(err instanceof DomainError) || err.code !== 'UNAUTHENTICATED') throw err;
        authFailure = err;
      }
    }
    const requestId = req.headers['x-request-id'];
    return deps.createContext(authed, {
      cache: true,
      requestId: typeof requestId === 'string' && requestId ? requestId : undefined,
      clientIp: req.socket.remoteAddress,
      authFailure,
    });
  };
  const readJson = bodyParser.json({ limit: deps.maxBodyBytes, verify: requireUtf8 });
  const serveGraphql = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, search: string) => {
    readJson(req, res, (err?: unknown) => {
      if (err) {
        answerBodyError(res, err, deps.formatError);
        return;
      }
      const headers = new HeaderMap();
      for (const key in req.headers) {
        const value = req.headers[key];
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search, body: req.body },
          context: () => contextOf(req),
        })
        .then((response) => writeResponse(res, response))
        .catch((error: unknown) => answerJson(res, 500, { errors: [deps.formatError(error)] }));
    });
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const explorer = deps.explorer ? createExplorer() : null;
  if (explorer) app.use(EXPLORER_ASSETS_PATH, explorer.assets);
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
  if (deps.webDir) app.use(webClient(deps.webDir));

  const route: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/graphql' || path === '/graphql/') {
      const search = q < 0 ? '' : url.slice(q);
      if (explorer?.wants(req, search)) explorer.serve(req, res);
      else serveGraphql(req, res, search);
    } else app(req, res);
  };
  // Bearer tokens, never cookies: no credentials mode. A preflight is answered here (204); an
  // origin not allowed gets no Access-Control-Allow-Origin, so the browser keeps the answer from
  // the page. Apollo's CSRF prevention still applies to what passes.
  const allowCors = cors({
    origin: (origin, done) => done(null, deps.origins.allows(origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: CORS_HEADERS,
    exposedHeaders: ['x-request-id'],
    maxAge: 600,
  });
  const handler: RequestListener = (req, res) => {
    // The caller's request id, or a new one: echoed in the answer, in the context and in the log line.
    const given = req.headers['x-request-id'];
    let requestId: string;
    if (typeof given === 'string' && REQUEST_ID.test(given)) requestId = given;
    else req.headers['x-request-id'] = requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const start = performance.now();
    res.once('finish', () => {
      const status = res.statusCode;
      deps.metrics.httpRequests.inc({ status: `${Math.floor(status / 100)}xx` });
      deps.log.info(
        { requestId, method: req.method, url: req.url, status, ms: Math.round((performance.now() - start) * 10) / 10 },
        'HTTP request',
      );
    });
    // Only browsers send Origin; other clients skip the CORS work.
    if (req.headers.origin === undefined) route(req, res);
    else allowCors(req, res, () => route(req, res));
  };
  return { handler, apollo };
}

/** Writes Apollo Server's answer as `startStandaloneServer` does: a complete body, or its chunks (incremental delivery). */
async function writeResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    // As a Buffer: node:http flattens a string body twice (measuring it, then with the header).
    res.end(Buffer.from(response.body.string));
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * body-parser's `verify`: refuses a body that is not valid UTF-8 (400 BAD_REQUEST) rather than
 * letting the decoder turn its bad bytes into U+FFFD, which would store text other than what was sent.
 */
function requireUtf8(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  if (!isUtf8(body)) throw Object.assign(new Error('invalid UTF-8'), { status: 400, type: 'utf8.invalid' });
}

/** Answers `body` as JSON with `status`, unless an answer has already started (then the response is cut off). */
function answerJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** Messages for body-parser's client errors, by their `type` (http-errors from raw-body and body-parser). */
const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON',
  'entity.too.large': 'The request body is larger than the limit (MAX_REQUEST_BYTES)',
  'utf8.invalid': 'The request body is not valid UTF-8',
  'entity.verify.failed': 'The request body was refused',
  'request.aborted': 'The request was aborted',
  'charset.unsupported': 'Unsupported charset: send UTF-8 JSON',
  'encoding.unsupported': 'Unsupported content encoding',
};

/**
 * Answers a `/graphql` body that could not be read (malformed JSON, over 1 MB, a charset other
 * than UTF-8) as GraphQL-over-HTTP clients read errors, JSON
 * `{ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }` with body-parser's status
 * (400, 413, 415), not an HTML error page. Anything else goes through the error formatter:
 * logged, and answered 500 INTERNAL_SERVER_ERROR.
 */
function answerBodyError(res: ServerResponse, err: unknown, formatError: ErrorFormatter): void {
  const e = err as { status?: unknown; expose?: unknown; type?: unknown; message?: unknown } | undefined;
  const clientError = typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true;
  const error = clientError
    ? new GraphQLError(BODY_ERRORS[String(e.type)] ?? String(e.message), { extensions: { code: 'BAD_REQUEST' } })
    : err;
  answerJson(res, clientError ? (e.status as number) : 500, { errors: [formatError(error)] });
}

/** How often {@link closeHttpServer} closes the connections that have become idle, ms. */
const DRAIN_POLL_MS = 50;

/**
 * Stops an HTTP server gracefully, as Apollo's drain plugin (ApolloServerPluginDrainHttpServer)
 * does, from Node's own list of HTTP connections rather than from a tracker per socket: no new
 * connection is accepted, idle keep-alive connections close at once, and a busy one as soon as
 * its response is sent (`closeIdleConnections`, every 50 ms until all are closed). Upgraded
 * sockets (WebSockets) are the WebSocket server's to close. A deadline is the caller's: its
 * `closeAllConnections()` ends the wait.
 * @returns resolved once every connection has closed.
 */
export async function closeHttpServer(server: Server): Promise<void> {
  // close() also closes the idle connections (Node 19 and later); a server not listening still calls back.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const poll = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
  try {
    await closed;
  } finally {
    clearInterval(poll);
  }
}
