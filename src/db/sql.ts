import type { QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Statement, StatementRunner } from './prepared';

/**
 * Runs one SQL statement and resolves to its rows. A {@link Statement} (named) is a prepared
 * statement, sent over the pipelined connections outside a transaction (the hot path: sends,
 * history pages, replays); plain text goes to the pool.
 * @throws the driver's error (node-postgres `DatabaseError`, with `code` and `constraint`).
 */
export type Sql = <T extends QueryResultRow = QueryResultRow>(
  statement: Statement | string,
  values?: unknown[],
) => Promise<T[]>;

/** The database as modules see it: SQL outside a transaction, or inside one. */
export interface Db {
  /** SQL outside a transaction. */
  sql: Sql;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

/** The {@link Db} of a DataSource, its hot statements run by `statements` (see prepared.ts). */
export function createDb(ds: DataSource, statements: StatementRunner): Db {
  const on =
    (manager: EntityManager): Sql =>
    <T extends QueryResultRow>(statement: Statement | string, values: unknown[] = []) =>
      typeof statement === 'string' ? manager.query<T[]>(statement, values) : statements<T>(manager, statement, values);
  return {
    sql: on(ds.manager),
    transaction: (work) => ds.transaction((tx) => work(on(tx))),
  };
}
