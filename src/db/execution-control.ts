/** Typed calls of the execution-control functions in sql/005_execution_control.sql. */
import type { Db, ClaimedExecution } from "./queries";
import type { TaskSettings } from "../api/task-settings";

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
const interval = (ms: number | null) => (ms === null ? null : `${ms / 1000} seconds`);

export async function configureTasks(db: Db, tasks: readonly { key: string; settings: TaskSettings }[]) {
  if (tasks.length === 0) return;
  const s = tasks.map((t) => t.settings);
  await db`select pgconductor.configure_tasks(
    ${tasks.map((t) => t.key)}::text[],
    ${s.map((x) => x.concurrency)}::int[],
    ${s.map((x) => (x.window ? clock(x.window.start) : null))}::text[]::time[],
    ${s.map((x) => (x.window ? clock(x.window.end) : null))}::text[]::time[],
    ${s.map((x) => x.window?.timeZone ?? null)}::text[],
    ${s.map((x) => interval(x.removeOnCompleteMs))}::text[]::interval[],
    ${s.map((x) => interval(x.removeOnFailMs))}::text[]::interval[],
    ${s.map((x) => x.batch?.size ?? null)}::int[],
    ${s.map((x) => (x.batch ? Math.round(x.batch.timeoutMs) : null))}::int[])`;
}

/** Claims for a worker with limited tasks: those first (each within its free slots), then the rest. */
export async function claimWithLimits(
  db: Db,
  orchestratorId: string,
  queue: string,
  unlimitedKeys: readonly string[],
  limited: readonly { key: string; limit: number }[],
  limit: number,
) {
  return db<ClaimedExecution[]>`
    select * from pgconductor.claim_with_limits(${orchestratorId}::uuid, ${queue},
      ${unlimitedKeys as string[]}::text[], ${limited.map((l) => l.key)}::text[], ${limited.map((l) => l.limit)}::int[], ${limit})`;
}

/** Wakes every worker of the queue when these (limited) tasks have work waiting: a slot was freed. */
export async function wakeQueue(db: Db, queue: string, taskKeys: readonly string[]) {
  await db`select pgconductor.wake_queue(${queue}, ${taskKeys as string[]}::text[])`;
}

export async function removeFinished(db: Db, completed: readonly string[], failed: readonly string[]) {
  await db`select pgconductor.remove_finished(${completed as string[]}::uuid[], ${failed as string[]}::uuid[])`;
}

export interface GatedExecution {
  taskKey: string;
  queue: string;
  payload: unknown;
  key: string | null;
  priority: number | null;
  runAt: Date | null;
  kind: "throttle" | "debounce";
  seconds: number;
  maxSeconds: number | null;
  concurrencyKey: string | null;
}

export async function invokeGated(db: Db, rows: readonly GatedExecution[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const result = await db<{ id: string }[]>`
    select id from pgconductor.invoke_gated(
      ${rows.map((r) => r.taskKey)}::text[],
      ${rows.map((r) => r.queue)}::text[],
      ${rows.map((r) => json(r.payload))}::text[]::jsonb[],
      ${rows.map((r) => r.key)}::text[],
      ${rows.map((r) => r.priority)}::int[],
      ${rows.map((r) => r.runAt?.toISOString() ?? null)}::timestamptz[],
      ${rows.map((r) => r.kind)}::text[],
      ${rows.map((r) => r.seconds)}::float8[],
      ${rows.map((r) => r.maxSeconds)}::float8[],
      ${rows.map((r) => r.concurrencyKey)}::text[])`;
  return result.map((row) => row.id);
}

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

export async function lastMaintenanceAt(db: Db): Promise<Date | null> {
  const [row] = await db<{ at: Date | null }[]>`select max(last_run_at) as at from pgconductor.maintenance_runs`;
  return row?.at ?? null;
}
