/** Durable steps of a running execution: stored step results, sleeps, child invocations. */
import type { Db } from "./db";
import { json } from "./db";

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
  traceContext: string | null = null,
) {
  const [row] = await db<{ state: "done" | "waiting" | "timeout"; outcome: { result?: unknown; error?: string } | null }[]>`
    select * from pgconductor.invoke_child(${parentId}::uuid, ${step}, ${child.taskKey}, ${child.queue},
      ${json(child.payload)}::text::jsonb, ${timeoutMs === null ? null : Math.round(timeoutMs)}::bigint, ${traceContext}::text)`;
  return row;
}
