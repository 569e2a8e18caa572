/** Typed calls for observers: registration, event details, history, execution info, retry. */
import type { Db } from "./db";
import { partCondition } from "./inspect-executions";

export async function touchObserver(db: Db, id: string, hostname: string, pid: number) {
  await db`select pgconductor.touch_observer(${id}::uuid, ${hostname}, ${pid})`;
}

export async function removeObserver(db: Db, id: string) {
  await db`delete from pgconductor.observers where id = ${id}::uuid`;
}

/** Transactions (with an xid) in progress right now, anywhere on the server. */
export async function transactionsInProgress(db: Db): Promise<string[]> {
  const rows = await db<{ xid: string }[]>`select pg_snapshot_xip(pg_current_snapshot())::text as xid`;
  return rows.map((row) => row.xid);
}

/** Which of these transactions are still in progress. */
export async function stillInProgress(db: Db, xids: readonly string[]): Promise<string[]> {
  const rows = await db<{ xid: string }[]>`
    select x::text as xid from unnest(${xids as string[]}::text[]::xid8[]) as x where pg_xact_status(x) = 'in progress'`;
  return rows.map((row) => row.xid);
}

export interface ExecutionDetails {
  id: string;
  task_key: string;
  queue: string;
  status: string;
  last_error: string | null;
  cancel_reason: string | null;
  result: unknown;
}

/** What events sent bare (`more`) leave out, and what `result()` needs. */
export async function readDetails(db: Db, ids: readonly string[]): Promise<Map<string, ExecutionDetails>> {
  if (ids.length === 0) return new Map();
  const rows = await db<ExecutionDetails[]>`
    select id, task_key, queue, status, last_error, cancel_reason, result
    from pgconductor.executions where id = any (${ids as string[]}::uuid[])`;
  return new Map(rows.map((row) => [row.id, row]));
}

export interface HistoryRow {
  id: string;
  task_key: string;
  queue: string;
  status: string;
  attempts: number;
  last_error: string | null;
  cancel_reason: string | null;
  result: unknown;
  created_ms: number;
  started_ms: number | null;
  locked_ms: number | null;
  finished_ms: number | null;
  retried_ms: number | null;
}

export interface HistoryQuery {
  since: Date;
  limit: number;
  tasks: readonly string[] | null;
  queues: readonly string[] | null;
  ids: readonly string[] | null;
}

/**
 * The newest executions created since `since` (all named ones, whatever their age), oldest first.
 * Finished and unfinished rows are read separately and merged: the list indexes cover each part on
 * its own (sql/019_finished_list_indexes.sql; partCondition in inspect-executions.ts).
 */
export async function readHistory(db: Db, query: HistoryQuery): Promise<HistoryRow[]> {
  const filters = db`
    and (${query.tasks as string[] | null}::text[] is null or e.task_key = any (${query.tasks as string[] | null}::text[]))
    and (${query.queues as string[] | null}::text[] is null or e.queue = any (${query.queues as string[] | null}::text[]))`;
  const newest = query.ids
    ? db`(select e.id, e.created_at from pgconductor.executions e where e.id = any (${query.ids as string[]}::uuid[]) ${filters})`
    : (["finished", "unfinished"] as const)
        .map((part) => db`(select e.id, e.created_at from pgconductor.executions e
          where ${partCondition(db, part)} and e.created_at >= ${query.since} ${filters}
          order by e.created_at desc, e.id limit ${query.limit})`)
        .reduce((all, branch) => db`${all} union all ${branch}`);
  const rows = await db<HistoryRow[]>`
    select * from (
      select e.id, e.task_key, e.queue, e.status, e.attempts, e.last_error, e.cancel_reason, e.result,
        floor(extract(epoch from e.created_at) * 1000)::float8 as created_ms,
        floor(extract(epoch from e.started_at) * 1000)::float8 as started_ms,
        floor(extract(epoch from e.locked_at) * 1000)::float8 as locked_ms,
        floor(extract(epoch from e.finished_at) * 1000)::float8 as finished_ms,
        case when e.status = 'pending' and e.attempts > 0 and e.last_error is not null and e.run_at < 'infinity'
          then floor(extract(epoch from e.run_at - pgconductor.retry_delay(e.attempts)) * 1000)::float8 end as retried_ms
      from (select n.id from (${newest}) n order by n.created_at desc, n.id limit ${query.limit}) picked
      join pgconductor.executions e on e.id = picked.id
    ) newest order by created_ms, id`;
  return rows;
}

export interface ExecutionRow {
  id: string;
  task_key: string;
  queue: string;
  event_name: string;
  payload: unknown;
  status: "pending" | "running" | "completed" | "failed" | "cancelled";
  priority: number;
  attempts: number;
  max_attempts: number | null;
  dedupe_key: string | null;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  result: unknown;
  cancel_requested: boolean;
  cancel_reason: string | null;
  locked_by: string | null;
  parent_id: string | null;
  waiting_for: string | null;
  steps: string[];
  children: string[];
}

export async function readExecution(db: Db, id: string): Promise<ExecutionRow | null> {
  const [row] = await db<ExecutionRow[]>`
    select e.id, e.task_key, e.queue, e.event_name, e.payload, e.status, e.priority, e.attempts,
      t.max_attempts, e.dedupe_key, e.run_at, e.created_at, e.started_at, e.finished_at, e.last_error,
      e.result, e.cancel_requested, e.cancel_reason, e.locked_by, e.parent_id, e.waiting_for,
      array(select s.name from pgconductor.steps s
            where s.execution_id = e.id and s.name not like '%#deadline' order by s.created_at, s.name) as steps,
      array(select c.id from pgconductor.executions c where c.parent_id = e.id order by c.created_at, c.id) as children
    from pgconductor.executions e left join pgconductor.tasks t on t.key = e.task_key
    where e.id = ${id}::uuid`;
  return row ?? null;
}
