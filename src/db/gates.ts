/** Throttled and debounced invokes (pgconductor.invoke_gated, sql/005_execution_control.sql). */
import type { Db } from "./db";
import { executionArrays } from "./db";

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
  const a = executionArrays(rows);
  const result = await db<{ id: string }[]>`
    select id from pgconductor.invoke_gated(
      ${a.taskKeys}::text[], ${a.queues}::text[], ${a.payloads}::text[]::jsonb[], ${a.keys}::text[],
      ${a.priorities}::int[], ${a.runAts}::timestamptz[],
      ${rows.map((r) => r.kind)}::text[],
      ${rows.map((r) => r.seconds)}::float8[],
      ${rows.map((r) => r.maxSeconds)}::float8[],
      ${rows.map((r) => r.concurrencyKey)}::text[])`;
  return result.map((row) => row.id);
}
