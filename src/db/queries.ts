/**
 * Typed calls of the SQL functions in `sql/`. One function per operation; arrays in, so a batch is
 * one round trip. Arrays travel as text[] and are cast in SQL (postgres.js cannot infer jsonb[]).
 */
import type { Sql, TransactionSql } from "postgres";

export type Db = Sql | TransactionSql;

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
}

export interface ClaimedExecution {
  id: string;
  task_key: string;
  queue: string;
  event_name: string;
  payload: unknown;
  attempts: number;
  steps: Record<string, unknown> | null;
  cancel_requested: boolean;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

export async function invokeExecutions(db: Db, executions: readonly NewExecution[]): Promise<string[]> {
  if (executions.length === 0) return [];
  const rows = await db<{ id: string }[]>`
    select id from pgconductor.invoke(
      ${executions.map((e) => e.taskKey)}::text[],
      ${executions.map((e) => e.queue)}::text[],
      ${executions.map((e) => json(e.payload))}::text[]::jsonb[],
      ${executions.map((e) => e.dedupeKey ?? null)}::text[],
      ${executions.map((e) => (e.priority ?? null) as number | null)}::int[],
      ${executions.map((e) => e.runAt?.toISOString() ?? null)}::timestamptz[],
      ${executions.map((e) => e.eventName ?? null)}::text[])`;
  return rows.map((row) => row.id);
}

export async function claimExecutions(db: Db, orchestratorId: string, queue: string, taskKeys: readonly string[], limit: number) {
  return db<ClaimedExecution[]>`
    select * from pgconductor.claim(${orchestratorId}::uuid, ${queue}, ${taskKeys as string[]}::text[], ${limit})`;
}

export async function nextRunAt(db: Db, queue: string, taskKeys: readonly string[]): Promise<Date | null> {
  const [row] = await db<{ at: Date | null }[]>`select pgconductor.next_run_at(${queue}, ${taskKeys as string[]}::text[]) as at`;
  return row.at;
}

export async function completeExecutions(db: Db, ids: readonly string[], results: readonly unknown[]) {
  await db`select pgconductor.complete(${ids as string[]}::uuid[], ${results.map(json)}::text[]::jsonb[])`;
}

export async function failExecutions(db: Db, ids: readonly string[], errors: readonly string[], final: readonly boolean[]) {
  await db`select pgconductor.fail(${ids as string[]}::uuid[], ${errors as string[]}::text[], ${final.map(String)}::text[]::boolean[])`;
}

export async function releaseExecutions(db: Db, ids: readonly string[]) {
  await db`select pgconductor.release(${ids as string[]}::uuid[])`;
}

export async function markCancelled(db: Db, ids: readonly string[]) {
  await db`select pgconductor.mark_cancelled(${ids as string[]}::uuid[])`;
}

export async function saveSteps(db: Db, steps: readonly { executionId: string; name: string; result: unknown }[]) {
  if (steps.length === 0) return;
  await db`select pgconductor.save_steps(${steps.map((s) => s.executionId)}::uuid[], ${steps.map((s) => s.name)}::text[],
    ${steps.map((s) => json(s.result))}::text[]::jsonb[])`;
}

export async function sleepExecution(db: Db, executionId: string, name: string, ms: number): Promise<"done" | "waiting"> {
  const [row] = await db<{ state: "done" | "waiting" }[]>`
    select pgconductor.sleep(${executionId}::uuid, ${name}, ${Math.max(0, Math.round(ms))}) as state`;
  return row.state;
}

export async function invokeChild(
  db: Db,
  parentId: string,
  step: string,
  child: { taskKey: string; queue: string; payload: unknown },
  timeoutMs: number | null,
) {
  const [row] = await db<{ state: "done" | "waiting" | "timeout"; outcome: { result?: unknown; error?: string } | null }[]>`
    select * from pgconductor.invoke_child(${parentId}::uuid, ${step}, ${child.taskKey}, ${child.queue},
      ${json(child.payload)}::text::jsonb, ${timeoutMs === null ? null : Math.round(timeoutMs)}::bigint)`;
  return row;
}

export async function findUnfinishedByDedupeKey(db: Db, taskKey: string, queue: string, dedupeKey: string): Promise<string | null> {
  const [row] = await db<{ id: string }[]>`
    select id from pgconductor.executions
    where task_key = ${taskKey} and queue = ${queue} and dedupe_key = ${dedupeKey} and status in ('pending', 'running')`;
  return row?.id ?? null;
}

export async function cancelExecution(db: Db, id: string, reason: string | null): Promise<boolean> {
  const [row] = await db<{ cancelled: boolean }[]>`select pgconductor.cancel(${id}::uuid, ${reason}) as cancelled`;
  return row.cancelled;
}

export async function upsertTasks(db: Db, tasks: readonly { key: string; queue: string; maxAttempts: number }[]) {
  if (tasks.length === 0) return;
  await db`select pgconductor.upsert_tasks(
    ${tasks.map((t) => t.key)}::text[], ${tasks.map((t) => t.queue)}::text[], ${tasks.map((t) => t.maxAttempts)}::int[])`;
}

export async function registerOrchestrator(db: Db, id: string, hostname: string, pid: number, schemaVersion: number) {
  await db`select pgconductor.register_orchestrator(${id}::uuid, ${hostname}, ${pid}, ${schemaVersion})`;
}

/** Keeps the lease; tells whether to stop (asked to, or our record is gone) and which running executions were cancelled. */
export async function heartbeat(db: Db, id: string): Promise<{ stop: boolean; cancelledIds: string[] }> {
  const [row] = await db<{ stop_requested: boolean; cancelled_ids: string[] | null }[]>`
    select * from pgconductor.heartbeat(${id}::uuid)`;
  return { stop: row.stop_requested, cancelledIds: row.cancelled_ids ?? [] };
}

export async function unregisterOrchestrator(db: Db, id: string) {
  await db`select pgconductor.unregister_orchestrator(${id}::uuid)`;
}

export async function recoverExpired(db: Db, leaseMs: number): Promise<number> {
  const [row] = await db<{ n: number }[]>`select pgconductor.recover_expired(${leaseMs}) as n`;
  return row.n;
}

/** Whether anything in these queues is runnable now or running (drain waits for neither). */
export async function hasOutstandingWork(db: Db, queues: readonly string[], taskKeys: readonly string[]): Promise<boolean> {
  const [row] = await db<{ busy: boolean }[]>`
    select exists (
      select 1 from pgconductor.executions
      where queue = any (${queues as string[]}::text[]) and task_key = any (${taskKeys as string[]}::text[])
        and ((status = 'pending' and run_at <= now()) or status = 'running')
    ) as busy`;
  return row.busy;
}
