/** The tasks an orchestrator runs, written at its start: attempts and queue, then execution-control settings. */
import type { Db } from "./db";
import type { TaskSettings } from "../model/task-settings";

const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
const interval = (ms: number | null) => (ms === null ? null : `${ms / 1000} seconds`);

export async function upsertTasks(db: Db, tasks: readonly { key: string; queue: string; maxAttempts: number }[]) {
  if (tasks.length === 0) return;
  await db`select pgconductor.upsert_tasks(
    ${tasks.map((t) => t.key)}::text[], ${tasks.map((t) => t.queue)}::text[], ${tasks.map((t) => t.maxAttempts)}::int[])`;
}

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
