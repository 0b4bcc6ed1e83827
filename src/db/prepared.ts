import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { PipelinedConnections } from './pipeline';

/** A hot SQL statement and the name PostgreSQL keeps it under (unique per distinct text). */
export interface Statement {
  name: string;
  text: string;
}

/**
 * Runs a {@link Statement} on `manager`'s connection (its transaction, if it has one, else any
 * pooled connection) and resolves to its rows.
 * @throws the driver's error (node-postgres `DatabaseError`, with `code` and `constraint`).
 */
export type StatementRunner = <T extends QueryResultRow>(
  manager: EntityManager,
  statement: Statement,
  values: unknown[],
) => Promise<T[]>;

/**
 * The runner of Parley's hot statements (a send, a history page). With `named`, each runs as a
 * node-postgres named prepared statement (`{ name, text, values }`): a connection parses and plans
 * it once and then only binds and executes (PostgreSQL's plan cache chooses between custom and
 * generic plans, "PREPARE" in the PostgreSQL manual), saving the planning that was a large share of
 * a history page's database time. Without `named` (the embedded PGlite, whose one session is shared by
 * every pooled socket, so that statement names would collide) the text is sent each time.
 *
 * The statement is reported to TypeORM's logger like any other (query counter, slow-query and
 * error logs), so metrics and logs do not depend on the path a statement took. Named statements
 * need a session per connection: behind PgBouncer, use session pooling.
 *
 * With `options.pipeline`, a statement outside a transaction goes to those shared pipelined
 * connections instead of the pool (see {@link PipelinedConnections}); a statement inside one
 * always goes to the transaction's own connection.
 */
export function createStatementRunner(
  ds: DataSource,
  options: { named: boolean; pipeline?: PipelinedConnections | null },
): StatementRunner {
  const slowMs = ds.options.maxQueryExecutionTime ?? 0;
  const pool = poolOf(ds);
  const pipeline = options.pipeline ?? null;
  return async <T extends QueryResultRow>(
    manager: EntityManager,
    statement: Statement,
    values: unknown[],
  ): Promise<T[]> => {
    const runner = manager.queryRunner;
    // A transaction's statements must go to its connection; anything else to the pipelined
    // connections, or else to any pooled one.
    const target: Pool | PoolClient | PipelinedConnections =
      runner && !runner.isReleased && runner.isTransactionActive
        ? ((await runner.connect()) as PoolClient)
        : (pipeline ?? pool);
    ds.logger.logQuery(statement.text, values, runner);
    const started = Date.now();
    try {
      const query = options.named
        ? { name: statement.name, text: statement.text, values }
        : { text: statement.text, values };
      const result = await (target instanceof PipelinedConnections ? target.query<T>(query) : target.query<T>(query));
      const ms = Date.now() - started;
      if (slowMs && ms > slowMs) ds.logger.logQuerySlow(ms, statement.text, values, runner);
      return result.rows;
    } catch (err) {
      ds.logger.logQueryError(err as Error, statement.text, values, runner);
      throw err;
    }
  };
}

/**
 * The node-postgres pool under an initialized TypeORM DataSource (`PostgresDriver.master`, not in
 * TypeORM's typings). test/integration/db-internals.test.ts fails if TypeORM moves it.
 */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}
