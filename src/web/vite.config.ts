import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Port of the API server that `npm run dev` starts beside the Vite dev server. */
const apiPort = Number(process.env.PORT ?? 4000);

/**
 * `npm run dev`: starts the API server (src/main.ts under ts-node) beside the Vite dev server and
 * stops it with it, so that one command serves the client with hot reload and the API it talks to.
 */
function apiServer(): Plugin {
  let child: ChildProcess | null = null;
  return {
    name: 'parley-api-server',
    apply: 'serve',
    configureServer(server) {
      child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: repo,
        env: { ...process.env, PORT: String(apiPort), WEB_DIR: 'off' },
        stdio: 'inherit',
      });
      server.httpServer?.once('close', () => child?.kill('SIGTERM'));
      process.once('exit', () => child?.kill('SIGTERM'));
    },
  };
}

/** The web client: `vite build` writes dist/web, which the server serves at `/`. */
export default defineConfig({
  root: here,
  plugins: [react(), apiServer()],
  build: { outDir: `${repo}dist/web`, emptyOutDir: true, sourcemap: false },
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    // The client talks to its own origin's /graphql, HTTP and WebSocket alike.
    proxy: { '/graphql': { target: `http://127.0.0.1:${apiPort}`, ws: true } },
  },
});
