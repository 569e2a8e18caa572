/** Writing new executions (pgconductor.invoke, with their trace context) and finding one by its dedupe key. */
import type { Db } from "./db";
import { executionArrays, json } from "./db";
import type { ClaimedExecution } from "./claim";

export interface NewExecution {
  taskKey: string;
  queue: string;
  payload: unknown;
  dedupeKey?: string | null;
  priority?: number | null;
  runAt?: Date | null;
  eventName?: string | null;
  /** Throttle or debounce (invoke options); such rows go through pgconductor.invoke_gated. */
  gate?: { kind: "throttle" | "debounce"; seconds: number; maxSeconds?: number | null } | null;
  /** Key of per-key limits (invoke option concurrency_key); such rows go through pgconductor.invoke_keyed. */
  concurrencyKey?: string | null;
  /** W3C traceparent of the span active at invoke (null: nothing traced). */
  traceContext?: string | null;
}

export async function invokeExecutions(db: Db, executions: readonly NewExecution[]): Promise<string[]> {
  if (executions.length === 0) return [];
  const a = executionArrays(executions.map((e) => ({ ...e, key: e.dedupeKey ?? null, priority: e.priority ?? null, runAt: e.runAt ?? null })));
  const rows = await db<{ id: string }[]>`
    select id from pgconductor.invoke(
      ${a.taskKeys}::text[], ${a.queues}::text[], ${a.payloads}::text[]::jsonb[], ${a.keys}::text[],
      ${a.priorities}::int[], ${a.runAts}::timestamptz[],
      ${executions.map((e) => e.eventName ?? null)}::text[],
      ${traceContextsOf(executions)}::text[])`;
  return rows.map((row) => row.id);
}

/** Null (the argument's default) when nothing is traced, so an untraced invoke sends no extra array. */
function traceContextsOf(executions: readonly NewExecution[]): (string | null)[] | null {
  return executions.some((e) => e.traceContext) ? executions.map((e) => e.traceContext ?? null) : null;
}

/**
 * Trace contexts of rows written by invoke_gated or invoke_keyed, which take none: call it in the
 * invoke's transaction. A row that already has one (a throttled call joining an earlier execution) keeps it.
 */
export async function setTraceContexts(db: Db, ids: readonly string[], traceContexts: readonly (string | null)[]): Promise<void> {
  if (!traceContexts.some((tc) => tc)) return;
  await db`select pgconductor.set_trace_contexts(${ids as string[]}::uuid[], ${traceContexts as string[]}::text[])`;
}

export async function findUnfinishedByDedupeKey(db: Db, taskKey: string, queue: string, dedupeKey: string): Promise<string | null> {
  const [row] = await db<{ id: string }[]>`
    select id from pgconductor.executions
    where task_key = ${taskKey} and queue = ${queue} and dedupe_key = ${dedupeKey} and status in ('pending', 'running')`;
  return row?.id ?? null;
}

/**
 * The local fast path (sql/021_invoke_claimed.sql): one execution written already claimed by
 * `orchestratorId`, whose idle worker in this process reserved a slot for it. Only for what the plain
 * invoke would write as due now with no dedupe key, gate or concurrency key (no conflict to resolve,
 * no limit to check). Returns the row as a claim returns it.
 */
export async function invokeClaimed(db: Db, execution: NewExecution, orchestratorId: string): Promise<ClaimedExecution> {
  const [row] = await db<ClaimedExecution[]>`
    insert into pgconductor.executions as e
      (task_key, queue, payload, priority, event_name, trace_context, status, locked_by, locked_at, attempts, started_at)
    values (${execution.taskKey}, ${execution.queue}, ${json(execution.payload)}::text::jsonb, ${execution.priority ?? 0},
      ${execution.eventName ?? "pgconductor.invoke"}, ${execution.traceContext ?? null}::text,
      'running', ${orchestratorId}::uuid, now(), 1, now())
    returning e.id, e.task_key, e.queue, e.event_name, e.payload, e.attempts, null::jsonb as steps,
      e.cancel_requested, e.run_at, e.locked_at, e.trace_context`;
  return row;
}
