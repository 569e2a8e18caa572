/** Writing new executions (pgconductor.invoke) and finding one by its dedupe key. */
import type { Db } from "./db";
import { executionArrays } from "./db";

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

export async function invokeExecutions(db: Db, executions: readonly NewExecution[]): Promise<string[]> {
  if (executions.length === 0) return [];
  const a = executionArrays(executions.map((e) => ({ ...e, key: e.dedupeKey ?? null, priority: e.priority ?? null, runAt: e.runAt ?? null })));
  const rows = await db<{ id: string }[]>`
    select id from pgconductor.invoke(
      ${a.taskKeys}::text[], ${a.queues}::text[], ${a.payloads}::text[]::jsonb[], ${a.keys}::text[],
      ${a.priorities}::int[], ${a.runAts}::timestamptz[],
      ${executions.map((e) => e.eventName ?? null)}::text[])`;
  return rows.map((row) => row.id);
}

export async function findUnfinishedByDedupeKey(db: Db, taskKey: string, queue: string, dedupeKey: string): Promise<string | null> {
  const [row] = await db<{ id: string }[]>`
    select id from pgconductor.executions
    where task_key = ${taskKey} and queue = ${queue} and dedupe_key = ${dedupeKey} and status in ('pending', 'running')`;
  return row?.id ?? null;
}
