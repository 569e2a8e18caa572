/** Typed calls of the cron-schedule functions in sql/003_cron_and_events.sql. */
import type { Sql } from "postgres";
import type { Db } from "./db";
import type { StaticSchedule } from "../model/trigger-specs";

export type { StaticSchedule };

export interface DueSchedule {
  task_key: string;
  name: string;
  cron: string;
  tz: string;
  next_run_at: Date | null;
}

export interface ScheduleAdvance {
  taskKey: string;
  name: string;
  previous: Date | null;
  /** null parks the schedule (its expression can no longer be evaluated). */
  next: Date | null;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

export async function syncStaticSchedules(db: Db, taskKeys: readonly string[], schedules: readonly StaticSchedule[]) {
  await db`select pgconductor.sync_static_schedules(
    ${taskKeys as string[]}::text[],
    ${schedules.map((s) => s.taskKey)}::text[], ${schedules.map((s) => s.queue)}::text[],
    ${schedules.map((s) => s.name)}::text[], ${schedules.map((s) => s.cron)}::text[], ${schedules.map((s) => s.tz)}::text[])`;
}

/**
 * Locks (skipping rows another orchestrator holds) the schedules of these tasks whose materialised
 * fire time has come, or that have none yet. Call inside a transaction, then advanceSchedules.
 */
export async function lockDueSchedules(db: Db, taskKeys: readonly string[], limit: number) {
  const rows = await db<(DueSchedule & { now: Date })[]>`
    select task_key, name, cron, tz, next_run_at, now() as now
    from pgconductor.schedules
    where task_key = any (${taskKeys as string[]}::text[]) and (next_run_at is null or next_run_at <= now())
    order by next_run_at nulls first
    limit ${limit}
    for update skip locked`;
  return rows;
}

export async function advanceSchedules(db: Db, advances: readonly ScheduleAdvance[]): Promise<number> {
  if (advances.length === 0) return 0;
  const [row] = await db<{ moved: number }[]>`
    select pgconductor.advance_schedules(
      ${advances.map((a) => a.taskKey)}::text[], ${advances.map((a) => a.name)}::text[],
      ${advances.map((a) => iso(a.previous))}::timestamptz[], ${advances.map((a) => iso(a.next))}::timestamptz[]) as moved`;
  return row.moved;
}

/**
 * One transaction: locks up to `limit` due schedules, lets `decide` compute where each goes, and
 * moves them (compare-and-set on the previous fire time). Returns how many were due.
 */
export async function advanceDueSchedules(
  sql: Sql,
  taskKeys: readonly string[],
  limit: number,
  decide: (due: (DueSchedule & { now: Date })[]) => ScheduleAdvance[],
): Promise<number> {
  return (await sql.begin(async (tx) => {
    const due = await lockDueSchedules(tx, taskKeys, limit);
    await advanceSchedules(tx, decide(due));
    return due.length;
  })) as number;
}

/** The earliest materialised fire time of these tasks' schedules, and the database's clock. */
export async function earliestScheduledFire(db: Db, taskKeys: readonly string[]): Promise<{ at: Date | null; now: Date }> {
  const [row] = await db<{ at: Date | null; now: Date }[]>`
    select min(next_run_at) as at, now() as now from pgconductor.schedules
    where task_key = any (${taskKeys as string[]}::text[]) and next_run_at < 'infinity'`;
  return row;
}

export async function upsertSchedule(
  db: Db,
  schedule: { taskKey: string; queue: string; name: string; cron: string; tz: string; payload: unknown; first: Date },
): Promise<Date> {
  const payload = schedule.payload === undefined ? null : JSON.stringify(schedule.payload);
  const [row] = await db<{ next_run_at: Date }[]>`
    select pgconductor.schedule(${schedule.taskKey}, ${schedule.queue}, ${schedule.name}, ${schedule.cron}, ${schedule.tz},
      ${payload}::text::jsonb, ${schedule.first.toISOString()}::timestamptz) as next_run_at`;
  return row.next_run_at;
}

export async function removeSchedule(db: Db, taskKey: string, name: string): Promise<boolean> {
  const [row] = await db<{ removed: boolean }[]>`select pgconductor.unschedule(${taskKey}, ${name}) as removed`;
  return row.removed;
}
