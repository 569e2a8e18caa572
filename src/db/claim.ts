/**
 * Claiming work for a worker, and what a worker asks about its queue: the next run_at, whether
 * anything is outstanding (drain), and waking the queue's other workers when a limited slot frees.
 */
import type { Db } from "./db";

export interface ClaimedExecution {
  id: string;
  task_key: string;
  queue: string;
  event_name: string;
  payload: unknown;
  attempts: number;
  steps: Record<string, unknown> | null;
  cancel_requested: boolean;
  /** When the execution became due (pgconductor.claim and claim_limited; see sql/012_claim_trace.sql). */
  run_at: Date;
  /** The claim's time, on the database's clock: locked_at - run_at is the queue wait. */
  locked_at: Date;
  /** W3C traceparent of the span that invoked it, or null. */
  trace_context: string | null;
}

/**
 * postgres.js resets its row counter only when a statement completes: after a statement on the same
 * connection failed part-way through its rows (any statement, the app's too), the next result starts
 * with holes (porsager/postgres#1119, #1181; unfixed in 3.4.9). The claimed rows are all there, after them.
 */
const present = (rows: readonly (ClaimedExecution | undefined)[]): ClaimedExecution[] => rows.filter((row): row is ClaimedExecution => row !== undefined);

/**
 * The claim as one statement rather than a call of pgconductor.claim (sql/012_claim_trace.sql, kept
 * for orchestrators of older releases during a rolling upgrade; the two must claim alike): a SQL
 * function's body is planned again on every call, while postgres.js prepares this statement once per
 * connection and PostgreSQL keeps its plan. That takes about half a millisecond off every claim
 * (0.95 against 1.41 ms for a one-row claim on PostgreSQL 15). Its generic plan still walks
 * executions_claim_idx under the limit, whatever the table holds.
 */
export async function claimExecutions(db: Db, orchestratorId: string, queue: string, taskKeys: readonly string[], limit: number) {
  return present(await db<ClaimedExecution[]>`
    with picked as (
      select c.id, c.started_at as earlier_start from pgconductor.executions c
      where c.queue = ${queue} and c.status = 'pending' and c.run_at <= now()
        and c.task_key = any (${taskKeys as string[]}::text[])
      order by c.priority desc, c.run_at, c.id
      limit ${limit}
      for update skip locked
    ), claimed as (
      update pgconductor.executions e
      set status = 'running', locked_by = ${orchestratorId}::uuid, locked_at = now(),
          attempts = e.attempts + 1, started_at = coalesce(e.started_at, now())
      from picked where e.id = picked.id
      returning e.id, e.task_key, e.queue, e.event_name, e.payload, e.attempts,
        -- An execution never claimed before has no steps: skip the lookup (most claims).
        case when picked.earlier_start is not null then
          (select jsonb_object_agg(s.name, s.result) from pgconductor.steps s where s.execution_id = e.id) end as steps,
        e.cancel_requested, e.run_at, e.locked_at, e.trace_context
    ), announced as (
      -- a CTE with a volatile call is evaluated once, not per row
      select pgconductor.announce('started', array_agg(id), array_agg(attempts)) from claimed
    )
    select claimed.* from claimed, announced`);
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
  return present(await db<ClaimedExecution[]>`
    select * from pgconductor.claim_with_limits(${orchestratorId}::uuid, ${queue},
      ${unlimitedKeys as string[]}::text[], ${limited.map((l) => l.key)}::text[], ${limited.map((l) => l.limit)}::int[], ${limit})`);
}

export async function nextRunAt(db: Db, queue: string, taskKeys: readonly string[]): Promise<Date | null> {
  const [row] = await db<{ at: Date | null }[]>`select pgconductor.next_run_at(${queue}, ${taskKeys as string[]}::text[]) as at`;
  return row.at;
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

/** Wakes every worker of the queue when these (limited) tasks have work waiting: a slot was freed. */
export async function wakeQueue(db: Db, queue: string, taskKeys: readonly string[]) {
  await db`select pgconductor.wake_queue(${queue}, ${taskKeys as string[]}::text[])`;
}
