import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './config/config';
import { startTracing } from './app/tracing';

/** Entry point: validate config, start tracing if configured, start, and stop gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const tracing = await startTracing(config);
  // Required only now: OpenTelemetry's instrumentation patches pg, ioredis and http as they are
  // first required, and the server requires them all.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startServer } = require('./app/server') as typeof import('./app/server');
  const server = await startServer(config, { tracer: tracing?.tracer });
  server.log.info(`GraphQL over HTTP: ${server.url}  WebSocket: ${server.wsUrl}`);
  const shutdown = (signal: string) => {
    server.log.info({ signal }, 'stopping');
    server
      .stop()
      .then(() => tracing?.shutdown().catch((err: unknown) => server.log.warn({ err }, 'flushing spans failed')))
      .then(
        () => process.exit(0),
        (err) => {
          server.log.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error('Parley failed to start:', err);
  process.exit(1);
});
