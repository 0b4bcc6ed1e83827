import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import express, { type RequestHandler } from 'express';

/**
 * Serves the built web client (src/web, built by Vite into `dir`) at `/`: its files, with
 * `index.html` for any other GET that asks for a page, so that a reload on a client route works.
 * Vite names the files under `assets/` by content hash: they are cached for a year; `index.html`
 * is revalidated on every load, so a new deploy is picked up at once. When `dir` holds no
 * `index.html`, `GET /` says how to build it (and nothing else is served).
 * @param dir - folder of the build, relative to the working directory
 */
export function webClient(dir: string): RequestHandler {
  const root = resolve(dir);
  const index = resolve(root, 'index.html');
  const router = express.Router();
  if (!existsSync(index)) {
    router.get('/', (_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send(`The web client is not built: run \`npm run build:web\` (looked in ${root}).`);
    });
    return router;
  }
  router.use('/assets', express.static(resolve(root, 'assets'), { immutable: true, maxAge: '365d', index: false }));
  router.use(
    express.static(root, {
      index: 'index.html',
      setHeaders: (res, path) => {
        if (path === index) res.setHeader('cache-control', 'no-cache');
      },
    }),
  );
  router.get(/.*/, (req, res, next) => {
    if (req.path.startsWith('/assets/') || !req.accepts('html')) return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
