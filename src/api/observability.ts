/**
 * What a Conductor offers for looking at executions from outside a task: observe, result,
 * getExecution. Owns the observer hub (a dedicated LISTEN connection, open only while observed).
 */
import postgres, { type Sql } from "postgres";
import type { Observable } from "rxjs";
import type { Logger } from "../model/logger";
import { ConfigurationError } from "../model/errors";
import { readExecution, type ExecutionRow } from "../db/observability";
import { ObserverHub } from "../streams/observer-hub";
import type { ExecutionEvent, ObserveFilter, PauseEvent } from "../model/execution-event";
import { observeExecutions } from "./observe";
import { waitForResult, type ResultOptions } from "./results";

/** application_name of the observer connection, visible in pg_stat_activity. */
export const OBSERVER_APPLICATION_NAME = "pgconductor-observer";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ExecutionInfo<Result = unknown> {
  id: string;
  task: string;
  queue: string;
  status: "pending" | "running" | "completed" | "failed" | "cancelled";
  /** Pending with a future run_at: delayed, waiting for a retry, sleeping, or waiting for a child. */
  runAt: Date;
  attempts: number;
  /** The task's maxAttempts as last written by an orchestrator (null if none ran it yet). */
  maxAttempts: number | null;
  eventName: string;
  payload: unknown;
  priority: number;
  dedupeKey: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
  result: Result | null;
  cancelRequested: boolean;
  cancelReason: string | null;
  /** The orchestrator holding it while running. */
  lockedBy: string | null;
  /** Names of stored steps (ctx.step, ctx.sleep, ctx.invoke), oldest first. */
  steps: string[];
  parentId: string | null;
  childIds: string[];
  /** The child it waits for, while hung up in ctx.invoke. */
  waitingFor: string | null;
}

export class Observability {
  readonly hub: ObserverHub;

  constructor(private readonly deps: { sql: Sql; logger: Logger; ensureInstalled(): Promise<void> }) {
    this.hub = new ObserverHub({
      sql: deps.sql,
      connectListener: () => dedicatedInstance(deps.sql),
      ensureInstalled: deps.ensureInstalled,
      onError: (message, error) => deps.logger.warn(message, { error }),
    });
  }

  observe(filter?: ObserveFilter): Observable<ExecutionEvent | PauseEvent> {
    return observeExecutions({ sql: this.deps.sql, messages: () => this.hub.messages() }, filter);
  }

  result(executionId: string, options?: ResultOptions & { task?: string }): Promise<unknown> {
    return waitForResult({ sql: this.deps.sql, messages: () => this.hub.messages() }, executionId, options);
  }

  async getExecution(executionId: string): Promise<ExecutionInfo | null> {
    if (typeof executionId !== "string" || !UUID.test(executionId)) {
      throw new ConfigurationError(`getExecution: the execution id must be a UUID, got ${JSON.stringify(executionId)}`);
    }
    await this.deps.ensureInstalled();
    const row = await readExecution(this.deps.sql, executionId);
    return row && toInfo(row);
  }

  /** Completes every observation and waits for the observer connection to end. */
  close(): Promise<void> {
    return this.hub.shutdown();
  }
}

function toInfo(row: ExecutionRow): ExecutionInfo {
  return {
    id: row.id,
    task: row.task_key,
    queue: row.queue,
    status: row.status,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    eventName: row.event_name,
    payload: row.payload,
    priority: row.priority,
    dedupeKey: row.dedupe_key,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lastError: row.last_error,
    result: row.result ?? null,
    cancelRequested: row.cancel_requested,
    cancelReason: row.cancel_reason,
    lockedBy: row.locked_by,
    steps: row.steps,
    parentId: row.parent_id,
    childIds: row.children,
    waitingFor: row.waiting_for,
  };
}

/**
 * A new postgres.js instance on the same server and credentials as `sql`, for LISTEN only.
 * postgres.js keeps one LISTEN connection per instance for the instance's life, so observers get
 * their own instance, ended when the last one leaves.
 */
function dedicatedInstance(sql: Sql): Sql {
  // `shared` would make postgres() hand back the same instance state; everything else is reusable.
  const { shared: _shared, ...options } = sql.options as unknown as Record<string, unknown> & { connection?: Record<string, unknown> };
  return postgres({
    ...(options as object),
    max: 1,
    onnotice: () => {},
    connection: { ...options.connection, application_name: OBSERVER_APPLICATION_NAME },
  } as postgres.Options<{}>);
}
