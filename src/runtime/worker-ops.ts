/**
 * Every database operation a worker performs, behind one interface: the producer claims through it,
 * the completer writes through it, and unit tests swap in an in-memory stand-in.
 */
import type { Sql } from "postgres";
import { claimExecutions, nextRunAt, wakeQueue, type ClaimedExecution } from "../db/claim";
import { claimLimited, type TaskLimits } from "../db/flow-control";
import { removeFinished } from "../db/outcomes";
import type { Outcome } from "./run-execution";
import { writeOutcomes } from "./write-outcomes";

export interface WorkerOps {
  /** Leases up to `limit` runnable executions of these tasks. */
  claim(queue: string, taskKeys: readonly string[], limit: number): Promise<ClaimedExecution[]>;
  /** As claim, the limited tasks first, each within its limits. */
  claimLimited(queue: string, unlimitedKeys: readonly string[], limited: readonly TaskLimits[], limit: number): Promise<ClaimedExecution[]>;
  /** Earliest run_at of pending work of these tasks, or null. */
  nextRunAt(queue: string, taskKeys: readonly string[]): Promise<Date | null>;
  writeOutcomes(outcomes: readonly Outcome[]): Promise<void>;
  removeFinished(completed: readonly string[], failed: readonly string[]): Promise<void>;
  /** Wakes every worker of the queue when these tasks have work waiting. */
  wakeQueue(queue: string, taskKeys: readonly string[]): Promise<void>;
}

export function sqlWorkerOps(sql: Sql, orchestratorId: string): WorkerOps {
  return {
    claim: (queue, taskKeys, limit) => claimExecutions(sql, orchestratorId, queue, taskKeys, limit),
    claimLimited: (queue, unlimitedKeys, limited, limit) => claimLimited(sql, orchestratorId, queue, unlimitedKeys, limited, limit),
    nextRunAt: (queue, taskKeys) => nextRunAt(sql, queue, taskKeys),
    writeOutcomes: (outcomes) => writeOutcomes(sql, outcomes),
    removeFinished: (completed, failed) => removeFinished(sql, completed, failed),
    wakeQueue: (queue, taskKeys) => wakeQueue(sql, queue, taskKeys),
  };
}
