import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { startServer } from './app/server';

/** Entry point: validate config, start, and stop gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const server = await startServer(config);
  server.log.info(`GraphQL over HTTP: ${server.url}  WebSocket: ${server.wsUrl}`);
  const shutdown = (signal: string) => {
    server.log.info({ signal }, 'stopping');
    server.stop().then(
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
