import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../shared/logger';
import { openDatabase } from './data-source';

/**
 * `npm run db:migrate`: applies pending migrations from migrations/ to the configured database
 * (DATABASE_URL, or the embedded one in DATA_DIR) and exits. The server also does this at start-up.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const db = await openDatabase(config, log);
  const applied: Array<{ name: string }> = await db.dataSource.query('SELECT name FROM migrations ORDER BY id');
  log.info({ migrations: applied.map((m) => m.name) }, 'database is up to date');
  await db.close();
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
