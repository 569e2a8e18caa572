/**
 * Finding executions from outside a task: the public functions behind `pgconductor list/show`,
 * bulk retry/cancel and the dashboard. Each takes a postgres.js instance on the database.
 */
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { compileExecutionFilter, isExecutionId, narrowsBeyondStatus, type ExecutionFilter, type ExecutionStatus } from "./execution-filter";
import { buildTimeline, describeStep, type StoredStep, type TimelineEntry } from "./execution-timeline";
import { cancelEach, listExecutionIds, listExecutionRows, readExecutionDetail, retryEach, type ExecutionSummaryRow, type RelatedRow } from "../db/inspect-executions";
import { requireInstalled } from "./inspect-installed";

export interface ExecutionSummary {
  id: string;
  task: string;
  queue: string;
  status: ExecutionStatus;
  attempts: number;
  maxAttempts: number | null;
  dedupeKey: string | null;
  priority: number;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
  parentId: string | null;
}

export interface RelatedExecution {
  id: string;
  task: string;
  status: ExecutionStatus;
  /** The parent's step that invoked it. */
  step: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
}

export interface ExecutionDetail extends ExecutionSummary {
  eventName: string;
  payload: unknown;
  result: unknown;
  cancelRequested: boolean;
  cancelReason: string | null;
  lockedBy: string | null;
  waitingFor: string | null;
  /** W3C traceparent of the span that invoked it, if that process traced. */
  traceContext: string | null;
  /** Stored steps (ctx.step results, sleeps, child outcomes), oldest first. */
  steps: StoredStep[];
  parent: RelatedExecution | null;
  children: RelatedExecution[];
  timeline: TimelineEntry[];
}

const summary = (row: ExecutionSummaryRow): ExecutionSummary => ({
  id: row.id, task: row.task_key, queue: row.queue, status: row.status, attempts: row.attempts,
  maxAttempts: row.max_attempts, dedupeKey: row.dedupe_key, priority: row.priority, runAt: row.run_at,
  createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at, lastError: row.last_error,
  parentId: row.parent_id,
});

const related = (row: RelatedRow): RelatedExecution => ({
  id: row.id, task: row.task_key, status: row.status, step: row.parent_step, createdAt: row.created_at,
  finishedAt: row.finished_at, lastError: row.last_error,
});

/** Executions matching the filter, newest first (page on with `before: last.id`). */
export async function listExecutions(sql: Sql, filter: ExecutionFilter = {}): Promise<ExecutionSummary[]> {
  const query = compileExecutionFilter(filter, "listExecutions");
  await requireInstalled(sql);
  return (await listExecutionRows(sql, query)).map(summary);
}

/** One execution with its steps, parent, children and timeline; null when there is none. */
export async function showExecution(sql: Sql, executionId: string): Promise<ExecutionDetail | null> {
  if (!isExecutionId(executionId)) {
    throw new ConfigurationError(`showExecution: the execution id must be a UUID, got ${JSON.stringify(executionId)}`);
  }
  await requireInstalled(sql);
  const found = await readExecutionDetail(sql, executionId);
  if (!found) return null;
  const { row, steps, children, parent } = found;
  return {
    ...summary(row),
    eventName: row.event_name, payload: row.payload, result: row.result ?? null,
    cancelRequested: row.cancel_requested, cancelReason: row.cancel_reason, lockedBy: row.locked_by,
    waitingFor: row.waiting_for, traceContext: row.trace_context,
    steps: steps.map(describeStep),
    parent: parent && related(parent),
    children: children.map(related),
    timeline: buildTimeline(row, steps, children),
  };
}

export interface BulkOutcome {
  /** Ids changed: retried, or cancelled (a running one stops at its next step or checkpoint). */
  done: string[];
  /** Ids matched but left alone, with why. */
  skipped: { id: string; reason: string }[];
}

/**
 * Retries the failed executions matching the filter (as `pgconductor retry <id>` each: fresh
 * attempts, stored steps kept). Status defaults to, and must be, failed. At most `limit` (default 1000).
 */
export async function retryExecutions(sql: Sql, filter: ExecutionFilter | readonly string[] = {}): Promise<BulkOutcome> {
  const ids = await bulkIds(sql, filter, "retryExecutions", ["failed"], (statuses) => {
    if (statuses.some((status) => status !== "failed")) throw new ConfigurationError("retryExecutions: only failed executions can be retried (status must be failed)");
  });
  const outcomes = await retryEach(sql, ids);
  return {
    done: outcomes.filter((o) => o.previous === "failed" && !o.refused).map((o) => o.id),
    skipped: outcomes.filter((o) => o.previous !== "failed" || o.refused).map((o) => ({
      id: o.id,
      reason: o.refused ? "another unfinished execution of its task has the same dedupe key"
        : o.previous === null ? "no such execution" : `it is ${o.previous}; only failed executions can be retried`,
    })),
  };
}

/**
 * Cancels the pending and running executions matching the filter (as conductor.cancel each).
 * The filter must name something beyond status (task, queue, time, search, ids): cancelling
 * everything by accident takes no effort otherwise.
 */
export async function cancelExecutions(sql: Sql, filter: ExecutionFilter | readonly string[], options: { reason?: string } = {}): Promise<BulkOutcome> {
  const ids = await bulkIds(sql, filter, "cancelExecutions", ["pending", "running"], (statuses, narrowed) => {
    if (statuses.some((status) => status !== "pending" && status !== "running")) {
      throw new ConfigurationError("cancelExecutions: only pending or running executions can be cancelled (status must be pending and/or running)");
    }
    if (!narrowed) throw new ConfigurationError("cancelExecutions: the filter must name a task, queue, time range, search or ids, not only a status");
  });
  const outcomes = await cancelEach(sql, ids, options.reason ?? null);
  return {
    done: outcomes.filter((o) => o.cancelled).map((o) => o.id),
    skipped: outcomes.filter((o) => !o.cancelled).map((o) => ({ id: o.id, reason: "already finished (or cancelled with its parent)" })),
  };
}

async function bulkIds(
  sql: Sql,
  filter: ExecutionFilter | readonly string[],
  where: string,
  defaultStatuses: ExecutionStatus[],
  check: (statuses: readonly ExecutionStatus[], narrowed: boolean) => void,
): Promise<string[]> {
  if (Array.isArray(filter)) {
    const bad = filter.find((id) => !isExecutionId(id));
    if (bad !== undefined) throw new ConfigurationError(`${where}: ${JSON.stringify(bad)} is not an execution id (a UUID)`);
    await requireInstalled(sql);
    return [...new Set(filter as string[])];
  }
  const query = compileExecutionFilter(filter as ExecutionFilter, where, 1000);
  const statuses = query.statuses ?? defaultStatuses;
  check(statuses, narrowsBeyondStatus(query));
  await requireInstalled(sql);
  return listExecutionIds(sql, { ...query, statuses });
}
