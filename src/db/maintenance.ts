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

export async function lastMaintenanceAt(db: Db): Promise<Date | null> {
  const [row] = await db<{ at: Date | null }[]>`select max(last_run_at) as at from pgconductor.maintenance_runs`;
  return row?.at ?? null;
}
