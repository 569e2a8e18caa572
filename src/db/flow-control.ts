/** Typed calls of the flow-control functions in sql/010_flow_control.sql. */
import { presentRows, type Db } from "./db";
import type { ClaimedExecution } from "./claim";
import type { NewExecution } from "./invoke";
import type { FlowSettings } from "../model/flow-settings";

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Rows carrying a concurrency_key (no gate): as invokeExecutions, with the key. */
export async function invokeKeyed(db: Db, executions: readonly NewExecution[]): Promise<string[]> {
  if (executions.length === 0) return [];
  const rows = await db<{ id: string }[]>`
    select id from pgconductor.invoke_keyed(
      ${executions.map((e) => e.taskKey)}::text[],
      ${executions.map((e) => e.queue)}::text[],
      ${executions.map((e) => json(e.payload))}::text[]::jsonb[],
      ${executions.map((e) => e.dedupeKey ?? null)}::text[],
      ${executions.map((e) => (e.priority ?? null) as number | null)}::int[],
      ${executions.map((e) => e.runAt?.toISOString() ?? null)}::timestamptz[],
      ${executions.map((e) => e.concurrencyKey ?? null)}::text[])`;
  return rows.map((row) => row.id);
}

/** The limits of one limited task, as claim_limited takes them (null: no such limit). */
export interface TaskLimits {
  key: string;
  concurrency: number | null;
  keyConcurrency: number | null;
  rateLimit: number | null;
  ratePeriodSeconds: number | null;
  ratePerKey: boolean;
}

/** Claims limited tasks first (each within its limits, skipping paused ones), then the unlimited ones. */
export async function claimLimited(
  db: Db,
  orchestratorId: string,
  queue: string,
  unlimitedKeys: readonly string[],
  limited: readonly TaskLimits[],
  limit: number,
) {
  return presentRows(await db<ClaimedExecution[]>`
    select * from pgconductor.claim_limited(${orchestratorId}::uuid, ${queue}, ${unlimitedKeys as string[]}::text[],
      ${limited.map((l) => l.key)}::text[],
      ${limited.map((l) => l.concurrency)}::int[],
      ${limited.map((l) => l.keyConcurrency)}::int[],
      ${limited.map((l) => l.rateLimit)}::int[],
      ${limited.map((l) => l.ratePeriodSeconds)}::float8[],
      ${limited.map((l) => String(l.ratePerKey))}::text[]::boolean[],
      ${limit})`);
}

/** Failed attempts; a non-null delay sets the time of the next attempt (else the default backoff). */
export async function failWithDelays(db: Db, ids: readonly string[], errors: readonly string[], final: readonly boolean[], delaysMs: readonly (number | null)[]) {
  await db`select pgconductor.fail_with_delays(${ids as string[]}::uuid[], ${errors as string[]}::text[],
    ${final.map(String)}::text[]::boolean[], ${delaysMs.map((d) => (d === null ? null : String(Math.max(0, Math.round(d)))))}::text[]::bigint[])`;
}

export async function configureFlow(db: Db, tasks: readonly { key: string; flow: FlowSettings }[]) {
  if (tasks.length === 0) return;
  const f = tasks.map((t) => t.flow);
  await db`select pgconductor.configure_flow(
    ${tasks.map((t) => t.key)}::text[],
    ${f.map((x) => x.keyConcurrency)}::int[],
    ${f.map((x) => x.rateLimit?.limit ?? null)}::int[],
    ${f.map((x) => x.rateLimit?.periodSeconds ?? null)}::float8[],
    ${f.map((x) => String(x.rateLimit?.perKey ?? false))}::text[]::boolean[],
    ${f.map((x) => (x.timeoutMs === null ? null : Math.round(x.timeoutMs)))}::int[])`;
}

export type PauseTarget = { kind: "queue" | "task"; name: string };

/** Pauses or resumes; true when the state changed. Notifies every worker either way. */
export async function setPaused(db: Db, target: PauseTarget, paused: boolean): Promise<boolean> {
  const [row] = await db<{ changed: boolean }[]>`select pgconductor.set_paused(${target.kind}, ${target.name}, ${paused}) as changed`;
  return row.changed;
}

/** The pauses in force, with each paused task's queue (null: a queue's pause, or a task not registered). */
export async function listPauses(db: Db): Promise<(PauseTarget & { pausedAt: Date; taskQueue: string | null })[]> {
  const rows = await db<{ kind: "queue" | "task"; name: string; paused_at: Date; task_queue: string | null }[]>`
    select p.kind, p.name, p.paused_at, t.queue as task_queue
    from pgconductor.pauses p left join pgconductor.tasks t on p.kind = 'task' and t.key = p.name
    order by p.kind, p.name`;
  return rows.map((row) => ({ kind: row.kind, name: row.name, pausedAt: row.paused_at, taskQueue: row.task_queue }));
}

/** The database's now, when the target was paused (null: not paused now) and a task's queue. */
export async function pauseTime(db: Db, target: PauseTarget): Promise<{ now: Date; pausedAt: Date | null; taskQueue: string | null }> {
  const [row] = await db<{ now: Date; paused_at: Date | null; task_queue: string | null }[]>`
    select now() as now,
      (select paused_at from pgconductor.pauses where kind = ${target.kind} and name = ${target.name}) as paused_at,
      (select queue from pgconductor.tasks where ${target.kind} = 'task' and key = ${target.name}) as task_queue`;
  return { now: row.now, pausedAt: row.paused_at, taskQueue: row.task_queue };
}

