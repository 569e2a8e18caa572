-- Operations: what the dashboard, `pgconductor list/show` and bulk retry/cancel read, and the
-- trace context that links an execution's attempts to the `invoke` that created it.

-- W3C traceparent of the span active at invoke ("00-<trace id>-<span id>-<flags>"); null when the
-- invoking process traces nothing. Attempt spans are children of it.
alter table pgconductor.executions add column trace_context text;

-- Lists are newest first, optionally narrowed by status, task or queue, and paged by (created_at, id).
-- Without these a list over a large table is a sequential scan and a sort.
create index executions_created_idx on pgconductor.executions (created_at, id);
create index executions_status_created_idx on pgconductor.executions (status, created_at, id);
create index executions_task_created_idx on pgconductor.executions (task_key, created_at, id);
create index executions_queue_created_idx on pgconductor.executions (queue, created_at, id);
-- Search by dedupe key, whatever the status (executions_dedupe_idx covers unfinished rows only).
create index executions_dedupe_key_idx on pgconductor.executions (dedupe_key) where dedupe_key is not null;

-- invoke, as in 001_core.sql, with one more parallel array: each execution's trace context.
drop function pgconductor.invoke(text[], text[], jsonb[], text[], integer[], timestamptz[], text[]);
create function pgconductor.invoke(
  p_task_keys text[], p_queues text[], p_payloads jsonb[], p_dedupe_keys text[],
  p_priorities integer[], p_run_ats timestamptz[], p_event_names text[] default null,
  p_trace_contexts text[] default null
) returns table (id uuid)
language sql as $$
  insert into pgconductor.executions as e
    (task_key, queue, payload, dedupe_key, priority, run_at, event_name, trace_context)
  select t.task_key, t.queue, t.payload, t.dedupe_key, coalesce(t.priority, 0),
         coalesce(t.run_at, now()), coalesce(t.event_name, 'pgconductor.invoke'), t.trace_context
  from unnest(p_task_keys, p_queues, p_payloads, p_dedupe_keys, p_priorities, p_run_ats,
              coalesce(p_event_names, array_fill(null::text, array[cardinality(p_task_keys)])),
              coalesce(p_trace_contexts, array_fill(null::text, array[cardinality(p_task_keys)])))
       as t(task_key, queue, payload, dedupe_key, priority, run_at, event_name, trace_context)
  on conflict (task_key, queue, dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running')
    do update set dedupe_key = excluded.dedupe_key
  returning e.id;
$$;

-- Retry many failed executions (pgconductor.retry for each), one outcome per id in input order:
-- the status before the call (null: no such execution), and whether a dedupe key held by another
-- unfinished execution refused it. A refused row does not undo the others.
create function pgconductor.retry_each(p_ids uuid[])
returns table (id uuid, previous text, refused boolean)
language plpgsql as $$
declare
  v_id uuid;
begin
  foreach v_id in array coalesce(p_ids, '{}') loop
    id := v_id;
    refused := false;
    begin
      previous := pgconductor.retry(v_id);
    exception when unique_violation then
      previous := 'failed';
      refused := true;
    end;
    return next;
  end loop;
end $$;
