/**
 * What every module of src/db shares. Each module is one operation's typed calls of the SQL
 * functions in `sql/`; arrays go in, so a batch is one round trip. Arrays travel as text[] and are
 * cast in SQL (postgres.js cannot infer jsonb[]).
 */
import type { Sql, TransactionSql } from "postgres";

export type Db = Sql | TransactionSql;

/**
 * The rows of a result without holes. postgres.js 3.4.9 resets its per-connection row counter only
 * when a statement completes, so after a statement that failed once it had sent some rows (a `when`
 * dividing by zero on its third candidate), the next result on that connection starts with that many
 * empty slots. A claim read with holes would hand `undefined` to a worker and miscount its slots.
 */
export function presentRows<T>(rows: readonly T[]): T[] {
  return Array.from(rows).filter((row) => row !== undefined);
}

/** A value as jsonb text; undefined becomes SQL null. */
export const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** The columns invoke and invoke_gated share, as the parallel arrays both functions take. */
export function executionArrays(rows: readonly { taskKey: string; queue: string; payload: unknown; key: string | null; priority: number | null; runAt: Date | null }[]) {
  return {
    taskKeys: rows.map((r) => r.taskKey),
    queues: rows.map((r) => r.queue),
    payloads: rows.map((r) => json(r.payload)),
    keys: rows.map((r) => r.key),
    priorities: rows.map((r) => r.priority),
    runAts: rows.map((r) => r.runAt?.toISOString() ?? null),
  };
}
