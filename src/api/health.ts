/** The health an Orchestrator reports (orchestrator.health, orchestrator.health$), in public terms. */
import type { HealthSnapshot, HealthStatus } from "../runtime/health-monitor";

export type { HealthStatus };

export interface OrchestratorHealth {
  /**
   * starting; ok; degraded: work runs but slower (push fell back to the sweep, or the table-change
   * consumer fails); down: the database is unreachable; stopped.
   */
  status: HealthStatus;
  /** When `status` last changed. */
  since: Date;
  /** The last check (every heartbeat interval); null before the first. */
  checkedAt: Date | null;
  database: { reachable: boolean; error: string | null; clockOffsetMs: number | null };
  push: { mode: "listening" | "sweeping"; reason: string | null; sweepIntervalMs: number | null };
  /** null when this orchestrator runs no table trigger. */
  tableChanges: { mode: "standby" | "consuming" | "failing"; failure: string | null; lagBytes: number | null } | null;
}

export function toOrchestratorHealth(snapshot: HealthSnapshot): OrchestratorHealth {
  return {
    status: snapshot.status,
    since: snapshot.since,
    checkedAt: snapshot.checkedAt,
    database: { ...snapshot.database },
    push: { ...snapshot.push },
    tableChanges: snapshot.tableChanges && { ...snapshot.tableChanges, mode: snapshot.tableChanges.mode as "standby" | "consuming" | "failing" },
  };
}
