/** Maintenance (sql/005_execution_control.sql run_maintenance): retention, orphaned steps, gates, dead records. */
import type { Sql } from "postgres";
import type { Db } from "./db";
import { MAINTENANCE_LOCK } from "../model/locks";

export interface MaintenanceReport {
  completed: number;
  failed: number;
  steps: number;
  gates: number;
  orchestrators: number;
  /** Emitted events older than 30 days. */
  events: number;
  /** Rate-limit starts older than their task's period (from 013 on). */
  rateStarts: number;
}

export async function runMaintenanceSql(db: Db, leaseMs: number, now?: Date): Promise<MaintenanceReport> {
  const [row] = now
    ? await db<{ report: MaintenanceReport }[]>`select pgconductor.run_maintenance(${leaseMs}, ${now.toISOString()}::timestamptz) as report`
    : await db<{ report: MaintenanceReport }[]>`select pgconductor.run_maintenance(${leaseMs}) as report`;
  return row.report;
}

/** Runs maintenance in a transaction holding the maintenance lock; null when another process holds it. */
export async function runMaintenanceLocked(sql: Sql, leaseMs: number, now?: Date): Promise<MaintenanceReport | null> {
  return (await sql.begin(async (tx) => {
    const [lock] = await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${MAINTENANCE_LOCK}) as locked`;
    if (!lock.locked) return null;
    return runMaintenanceSql(tx, leaseMs, now);
  })) as MaintenanceReport | null;
}

/**
 * Milliseconds since the last recorded run by the database's clock (null: never ran). Every
 * orchestrator decides from this whether maintenance is due, so their clocks must not matter.
 */
export async function msSinceLastMaintenance(db: Db): Promise<number | null> {
  const [row] = await db<{ ms: number | null }[]>`
    select (extract(epoch from now() - max(last_run_at)) * 1000)::float8 as ms from pgconductor.maintenance_runs`;
  return row?.ms ?? null;
}

export interface StatsRefresh {
  /** The planner's row estimate (pg_class.reltuples) after the call; -1: never analyzed. */
  estimate: number;
  /** Unfinished executions, counted up to twice the threshold. */
  unfinished: number;
  analyzed: boolean;
}

/** ANALYZE pgconductor.executions if the planner believes it far emptier than it is (sql/023_stale_stats.sql). */
export async function refreshStaleStats(db: Db, minUnfinished: number): Promise<StatsRefresh> {
  const [row] = await db<StatsRefresh[]>`select * from pgconductor.refresh_stale_stats(${minUnfinished}::int)`;
  return { estimate: Number(row.estimate), unfinished: Number(row.unfinished), analyzed: row.analyzed };
}
