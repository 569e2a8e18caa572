/**
 * What changes when `sql` goes through a pooler in transaction mode (pgbouncer pool_mode=transaction):
 * each statement may run on another server connection, where a named prepared statement from the
 * last one does not exist, and no session state (LISTEN, session locks) survives. The engine treats
 * the pool so when told (a separate session URL is given) or when its start probe finds that LISTEN
 * does not deliver (health-monitor.ts); LISTEN and replication then use the session pool.
 */
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";

/** postgres.js reads `prepare` per query, so turning it off here holds for every later query of the pool. */
export function preparedStatementsOff(sql: Sql, logger: Logger, why: string): void {
  const options = sql.options as unknown as { prepare: boolean };
  if (!options.prepare) return;
  options.prepare = false;
  logger.info(`prepared statements turned off for this connection pool: ${why}`);
}
