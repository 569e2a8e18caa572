/** Writing through the caller's postgres.js transaction (transactional enqueue). */
import type { Sql, TransactionSql } from "postgres";

export interface TransactionOptions {
  /**
   * A postgres.js transaction (the `sql` that `sql.begin(async (sql) => ...)` hands you): the write
   * joins it, so the execution or event exists if and only if that transaction commits.
   */
  sql?: Sql | TransactionSql;
}

export function isTransaction(db: Sql | TransactionSql): db is TransactionSql {
  return typeof (db as Partial<TransactionSql>).savepoint === "function";
}

/**
 * `db` for code that opens its own transaction with `sql.begin(fn)`: inside the caller's
 * transaction, begin becomes a savepoint of it instead of a second, independent transaction.
 */
export function joinable(db: Sql | TransactionSql): Sql {
  if (!isTransaction(db)) return db;
  return new Proxy(db, {
    get: (target, property, receiver) =>
      property === "begin" ? (fn: (sql: TransactionSql) => unknown) => target.savepoint(fn) : Reflect.get(target, property, receiver),
  }) as unknown as Sql;
}
