/**
 * Reads for finding executions (dashboard, `pgconductor list/show`, bulk retry/cancel). Each filter
 * is added to the statement only when given, so the planner sees plain equalities and can take the
 * list indexes instead of scanning the table. Those cover finished and unfinished rows separately
 * (sql/019_finished_list_indexes.sql: a claim then writes fewer index entries), so a list reads
 * each part newest first, with its statuses named literally (a parameter would not let the planner
 * match the indexes' predicates), and merges them.
 */
import type { Db } from "./db";

export type ExecutionStatus = "pending" | "running" | "completed" | "failed" | "cancelled";

export interface ExecutionQuery {
  statuses: readonly ExecutionStatus[] | null;
  tasks: readonly string[] | null;
  queues: readonly string[] | null;
  /** created_at bounds. */
  since: Date | null;
  until: Date | null;
  /** An execution id or a dedupe key. */
  search: { id: string | null; key: string } | null;
  /** Rows created before this execution (its created_at, id), for the next page. */
  before: string | null;
  limit: number;
}

export interface ExecutionSummaryRow {
  id: string;
  task_key: string;
  queue: string;
  status: ExecutionStatus;
  attempts: number;
  max_attempts: number | null;
  dedupe_key: string | null;
  priority: number;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  parent_id: string | null;
}

function conditions(db: Db, q: ExecutionQuery) {
  const none = db``;
  return db`
    ${q.statuses ? db`and e.status = any (${q.statuses as string[]}::text[])` : none}
    ${q.tasks ? db`and e.task_key = any (${q.tasks as string[]}::text[])` : none}
    ${q.queues ? db`and e.queue = any (${q.queues as string[]}::text[])` : none}
    ${q.since ? db`and e.created_at >= ${q.since}` : none}
    ${q.until ? db`and e.created_at < ${q.until}` : none}
    ${q.search?.id ? db`and (e.id = ${q.search.id}::uuid or e.dedupe_key = ${q.search.key})` : none}
    ${q.search && !q.search.id ? db`and e.dedupe_key = ${q.search.key}` : none}
    ${q.before ? db`and (e.created_at, e.id) < (select b.created_at, b.id from pgconductor.executions b where b.id = ${q.before}::uuid)` : none}`;
}

const FINISHED: readonly ExecutionStatus[] = ["completed", "failed", "cancelled"];
const UNFINISHED: readonly ExecutionStatus[] = ["pending", "running"];

/** The parts of the table a list reads: those with some of the asked-for statuses. */
function parts(q: ExecutionQuery): ("finished" | "unfinished")[] {
  const wanted = (part: readonly ExecutionStatus[]) => q.statuses === null || part.some((status) => q.statuses!.includes(status));
  return [...(wanted(FINISHED) ? (["finished"] as const) : []), ...(wanted(UNFINISHED) ? (["unfinished"] as const) : [])];
}

/** `e.status` within one part, named literally so the planner matches the part's index predicates. */
export function partCondition(db: Db, part: "finished" | "unfinished") {
  return part === "finished" ? db`e.status in ('completed', 'failed', 'cancelled')` : db`e.status in ('pending', 'running')`;
}

/** The ids of the newest matching executions of each part (each part at most `limit`), as one statement. */
function newestIds(db: Db, q: ExecutionQuery) {
  const branches = parts(q).map(
    (part) => db`(select e.id, e.created_at from pgconductor.executions e
      where ${partCondition(db, part)} ${conditions(db, q)}
      order by e.created_at desc, e.id desc limit ${q.limit})`,
  );
  if (branches.length === 0) return db`(select null::uuid as id, null::timestamptz as created_at where false)`;
  return branches.reduce((all, branch) => db`${all} union all ${branch}`);
}

/** Newest first. */
export async function listExecutionRows(db: Db, q: ExecutionQuery): Promise<ExecutionSummaryRow[]> {
  return db<ExecutionSummaryRow[]>`
    select e.id, e.task_key, e.queue, e.status, e.attempts, t.max_attempts, e.dedupe_key, e.priority,
      e.run_at, e.created_at, e.started_at, e.finished_at, e.last_error, e.parent_id
    from (select n.id from (${newestIds(db, q)}) n order by n.created_at desc, n.id desc limit ${q.limit}) picked
    join pgconductor.executions e on e.id = picked.id
    left join pgconductor.tasks t on t.key = e.task_key
    order by e.created_at desc, e.id desc`;
}

/** Only the ids, for bulk actions. */
export async function listExecutionIds(db: Db, q: ExecutionQuery): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select n.id from (${newestIds(db, q)}) n order by n.created_at desc, n.id desc limit ${q.limit}`;
  return rows.map((row) => row.id);
}

export interface StepRow {
  name: string;
  result: unknown;
  created_at: Date;
}

export interface RelatedRow {
  id: string;
  task_key: string;
  status: ExecutionStatus;
  parent_step: string | null;
  created_at: Date;
  finished_at: Date | null;
  last_error: string | null;
}

export interface ExecutionDetailRow extends ExecutionSummaryRow {
  event_name: string;
  payload: unknown;
  result: unknown;
  cancel_requested: boolean;
  cancel_reason: string | null;
  locked_by: string | null;
  locked_at: Date | null;
  waiting_for: string | null;
  parent_step: string | null;
  trace_context: string | null;
  now: Date;
}

export async function readExecutionDetail(db: Db, id: string) {
  const [row] = await db<ExecutionDetailRow[]>`
    select e.id, e.task_key, e.queue, e.status, e.attempts, t.max_attempts, e.dedupe_key, e.priority,
      e.run_at, e.created_at, e.started_at, e.finished_at, e.last_error, e.parent_id, e.event_name,
      e.payload, e.result, e.cancel_requested, e.cancel_reason, e.locked_by, e.locked_at, e.waiting_for,
      e.parent_step, e.trace_context, now() as now
    from pgconductor.executions e left join pgconductor.tasks t on t.key = e.task_key
    where e.id = ${id}::uuid`;
  if (!row) return null;
  const [steps, children, parent] = await Promise.all([
    db<StepRow[]>`select name, result, created_at from pgconductor.steps where execution_id = ${id}::uuid order by created_at, name`,
    db<RelatedRow[]>`
      select id, task_key, status, parent_step, created_at, finished_at, last_error from pgconductor.executions
      where parent_id = ${id}::uuid order by created_at, id`,
    row.parent_id
      ? db<RelatedRow[]>`
          select id, task_key, status, parent_step, created_at, finished_at, last_error from pgconductor.executions
          where id = ${row.parent_id}::uuid`
      : Promise.resolve([] as RelatedRow[]),
  ]);
  return { row, steps, children, parent: parent[0] ?? null };
}

export interface RetryOutcomeRow {
  id: string;
  previous: string | null;
  refused: boolean;
}

export async function retryEach(db: Db, ids: readonly string[]): Promise<RetryOutcomeRow[]> {
  if (ids.length === 0) return [];
  return db<RetryOutcomeRow[]>`select * from pgconductor.retry_each(${ids as string[]}::uuid[])`;
}

/** pgconductor.cancel for each id, in one statement; true where it cancelled (or asked a running one to stop). */
export async function cancelEach(db: Db, ids: readonly string[], reason: string | null): Promise<{ id: string; cancelled: boolean }[]> {
  if (ids.length === 0) return [];
  return db<{ id: string; cancelled: boolean }[]>`
    select x.id, pgconductor.cancel(x.id, ${reason}) as cancelled
    from unnest(${ids as string[]}::uuid[]) with ordinality as x(id, ord) order by x.ord`;
}
