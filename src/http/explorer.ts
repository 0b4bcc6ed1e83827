import type { IncomingMessage, ServerResponse } from 'node:http';
import { getDistDirectory, isSandboxFrame, renderAltair, SANDBOX_FRAME_CSP } from 'altair-static';
import express, { type Router } from 'express';

/** Where the explorer's own files are served (from altair-static's package folder, no CDN). */
export const EXPLORER_ASSETS_PATH = '/explorer/';

/**
 * The explorer: Altair (altair-static), a GraphiQL-class client, served by Parley itself from the
 * package's files in node_modules, so it works offline. Queries and mutations go to `/graphql`
 * over HTTP, subscriptions over graphql-ws on the same path. The token goes in the environment
 * variable `token` (Environments pane): the Authorization header and the connection_init payload
 * are prefilled to read it.
 */
export function createExplorer(): {
  /** `true` for a browser's page load of `/graphql`: a GET that accepts HTML and carries no query. */
  wants(req: IncomingMessage, search: string): boolean;
  /** Answers the explorer's page for the host the browser asked. */
  serve(req: IncomingMessage, res: ServerResponse): void;
  /** The explorer's static files, to mount at {@link EXPLORER_ASSETS_PATH}. */
  assets: Router;
} {
  const pages = new Map<string, Buffer>();
  const page = (origin: string): Buffer => {
    let html = pages.get(origin);
    if (!html) {
      html = Buffer.from(
        renderAltair({
          baseURL: EXPLORER_ASSETS_PATH,
          initialName: 'Parley',
          endpointURL: `${origin}/graphql`,
          subscriptionsEndpoint: `${origin.replace(/^http/, 'ws')}/graphql`,
          initialSubscriptionRequestHandlerId: 'graphql-ws',
          initialEnvironments: { base: { title: 'Parley', variables: { token: '' } } },
          initialHeaders: { Authorization: 'Bearer {{token}}' },
          initialSubscriptionsPayload: { authToken: '{{token}}' },
          initialQuery:
            '# Paste a token from login or register into the environment variable "token".\n{ me { id username } }\n',
          disableAccount: true,
        }),
      );
      // A few hosts at most (localhost, 127.0.0.1, a LAN name); never grow without bound.
      if (pages.size >= 16) pages.clear();
      pages.set(origin, html);
    }
    return html;
  };
  const assets = express.Router();
  assets.use(
    express.static(getDistDirectory(), {
      index: false,
      setHeaders(res, path) {
        if (isSandboxFrame(path)) res.setHeader('content-security-policy', SANDBOX_FRAME_CSP);
      },
    }),
  );
  return {
    wants(req, search) {
      return req.method === 'GET' && !/[?&]query=/.test(search) && (req.headers.accept ?? '').includes('text/html');
    },
    serve(req, res) {
      res.statusCode = 200;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.end(page(originOf(req)));
    },
    assets,
  };
}

/**
 * The origin a browser reached this server at, from the Host header (and X-Forwarded-Proto
 * behind a TLS proxy). A Host header that is not a plain host[:port] falls back to localhost.
 */
function originOf(req: IncomingMessage): string {
  const host = req.headers.host;
  const safeHost = host && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : 'localhost';
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${safeHost}`;
}
