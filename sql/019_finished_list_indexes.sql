-- The list indexes of 008 (newest first, by status, task or queue) covered every row, so each
-- transition of an execution (invoke, claim, completion) wrote an entry into all four: status is
-- in their key or in other indexes' predicates, so no update is HOT. Finished rows are where the
-- lists need them (retention keeps days of them); unfinished rows are few and listed newest first
-- through one index of their own. A claim now writes 3 index entries instead of 6, an invoke 4
-- instead of 7. The list queries (src/db/inspect-executions.ts, src/db/observability.ts) read the
-- two parts separately and merge them, naming each part's statuses literally so the planner can
-- match these predicates. On a large table this migration rebuilds four indexes: it takes a while
-- and holds a lock on pgconductor.executions meanwhile.
drop index pgconductor.executions_created_idx;
drop index pgconductor.executions_status_created_idx;
drop index pgconductor.executions_task_created_idx;
drop index pgconductor.executions_queue_created_idx;
create index executions_finished_created_idx on pgconductor.executions (created_at, id)
  where status in ('completed', 'failed', 'cancelled');
create index executions_finished_status_created_idx on pgconductor.executions (status, created_at, id)
  where status in ('completed', 'failed', 'cancelled');
create index executions_finished_task_created_idx on pgconductor.executions (task_key, created_at, id)
  where status in ('completed', 'failed', 'cancelled');
create index executions_finished_queue_created_idx on pgconductor.executions (queue, created_at, id)
  where status in ('completed', 'failed', 'cancelled');
create index executions_unfinished_created_idx on pgconductor.executions (created_at, id)
  where status in ('pending', 'running');
