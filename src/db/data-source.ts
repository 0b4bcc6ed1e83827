import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { migrations } from '../../migrations';
import type { Config } from '../config/config';
import type { Logger } from '../shared/logger';
import { startEmbeddedPostgres } from './embedded-postgres';
import { CallbackQueryClient } from './callback-client';
import { PipelinedConnections } from './pipeline';
import { createStatementRunner } from './prepared';
import { createDb, type Db } from './sql';

/** The database of one instance: SQL for the modules, the TypeORM DataSource, and how to close them. */
export interface Database {
  /** What modules run their SQL on (see sql.ts). */
  db: Db;
  dataSource: DataSource;
  /** `true` on the embedded PGlite default. */
  embedded: boolean;
  close(): Promise<void>;
}

/** Called for every SQL statement sent (counted by the metrics, never logged with parameters). */
export type QueryObserver = (sql: string) => void;

function typeormLogger(log: Logger, onQuery?: QueryObserver): TypeOrmLogger {
  return {
    logQuery: (sql) => onQuery?.(sql),
    logQueryError: (error, sql) => log.debug({ err: error, sql }, 'query failed'),
    logQuerySlow: (time, sql) => log.warn({ ms: time, sql: sql.slice(0, 200) }, 'slow query'),
    logSchemaBuild: () => undefined,
    logMigration: (message) => log.info(message),
    log: (level, message) => (level === 'warn' ? log.warn(message) : log.debug(message)),
  };
}

/** Key of the advisory lock that serializes migrations between instances starting together. */
const MIGRATION_LOCK = 7_210_001;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that several instances starting
 * at once on an empty database migrate it once instead of colliding on the same DDL.
 */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Opens the database: PostgreSQL at `config.databaseUrl`, or PGlite in `config.dataDir/pgdata`
 * when that is unset. `synchronize` is always off: the schema comes from `migrations/` only.
 *
 * @param options.entities - the modules' TypeORM entities.
 * @param options.migrate - run pending migrations before returning (default true).
 * @throws the driver's error when the database cannot be reached.
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM takes entity classes as `Function`
  options: { entities?: readonly Function[]; migrate?: boolean; onQuery?: QueryObserver } = {},
): Promise<Database> {
  const common = {
    type: 'postgres' as const,
    entities: [...(options.entities ?? [])],
    migrations,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logger: typeormLogger(log, options.onQuery),
    maxQueryExecutionTime: 1000,
    // The pool's connections answer TypeORM's promise-form queries through node-postgres's
    // callback form (see CallbackQueryClient): rows no longer outlive young-generation collections.
    extra: { Client: CallbackQueryClient },
  };
  let dataSource: DataSource;
  let closeEmbedded: (() => Promise<void>) | null = null;
  let pipeline: PipelinedConnections | null = null;
  if (config.databaseUrl) {
    dataSource = new DataSource({ ...common, url: config.databaseUrl, poolSize: config.dbPoolSize });
    // Not on PGlite: its one session is shared by every socket (see createStatementRunner).
    if (config.dbPipelineConnections > 0)
      pipeline = new PipelinedConnections({ connectionString: config.databaseUrl }, config.dbPipelineConnections, log);
  } else {
    const poolSize = Math.min(config.dbPoolSize, 8);
    const pgdata = join(config.dataDir, 'pgdata');
    // Creating the embedded database is the slow part of a first start: say so.
    log.info(
      { dataDir: pgdata },
      existsSync(join(pgdata, 'PG_VERSION'))
        ? 'opening the embedded database'
        : 'creating the embedded database and running migrations (first start only: this takes a while)',
    );
    const embedded = await startEmbeddedPostgres(pgdata, poolSize);
    closeEmbedded = () => embedded.close();
    dataSource = new DataSource({
      ...common,
      host: embedded.host,
      port: embedded.port,
      username: 'postgres',
      database: 'postgres',
      poolSize,
    });
  }
  try {
    await dataSource.initialize();
    if (options.migrate !== false) await migrate(dataSource);
    await pipeline?.open();
  } catch (err) {
    await pipeline?.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    await closeEmbedded?.();
    throw err;
  }
  return {
    db: createDb(dataSource, createStatementRunner(dataSource, { named: closeEmbedded === null, pipeline })),
    dataSource,
    embedded: closeEmbedded !== null,
    async close() {
      await pipeline?.close();
      await dataSource.destroy();
      await closeEmbedded?.();
    },
  };
}

/**
 * The client counts of the node-postgres pool behind a TypeORM DataSource (for the pool gauges),
 * or `null` before it is open.
 */
export function poolStats(
  dataSource: DataSource,
): { totalCount: number; idleCount: number; waitingCount: number } | null {
  const pool = (dataSource.driver as { master?: { totalCount: number; idleCount: number; waitingCount: number } })
    .master;
  return pool ?? null;
}
