/** Durable steps of a running execution: stored step results, sleeps, child invocations. */
import type { Db } from "./db";
import { json } from "./db";

/**
 * One statement rather than a call of pgconductor.save_steps (kept for older releases; the two must
 * write alike): a SQL function's body is planned on every call, a prepared statement's plan is kept,
 * and a step write is on the handler's path. The first write of a name wins, as for separate
 * statements; steps of an execution that no longer exists are dropped.
 */
export async function saveSteps(db: Db, steps: readonly { executionId: string; name: string; result: unknown }[]) {
  if (steps.length === 0) return;
  await db`
    insert into pgconductor.steps (execution_id, name, result)
    select distinct on (s.id, s.name) s.id, s.name, s.result
    from unnest(${steps.map((s) => s.executionId)}::uuid[], ${steps.map((s) => s.name)}::text[],
      ${steps.map((s) => json(s.result))}::text[]::jsonb[]) with ordinality as s(id, name, result, ord)
    where exists (select 1 from pgconductor.executions e where e.id = s.id)
    order by s.id, s.name, s.ord
    on conflict do nothing`;
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
