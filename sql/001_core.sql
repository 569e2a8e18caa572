-- Core schema: executions, their steps, the orchestrators that lease them, and task settings.
-- Every state transition is a function below that takes arrays, so a batch is one round trip.

create table pgconductor.orchestrators (
  id uuid primary key,
  hostname text not null,
  pid integer not null,
  schema_version integer not null,
  started_at timestamptz not null default now(),
  last_heartbeat_at timestamptz not null default now(),
  stop_requested boolean not null default false
);

-- Settings of each task, written by the orchestrators that run it, read when an execution fails
-- (so a process that only invokes needs no task settings of its own).
create table pgconductor.tasks (
  key text primary key,
  queue text not null,
  max_attempts integer not null default 3,
  updated_at timestamptz not null default now()
);

create table pgconductor.executions (
  id uuid primary key default gen_random_uuid(),
  task_key text not null,
  queue text not null default 'default',
  event_name text not null default 'pgconductor.invoke',
  payload jsonb,
  -- pending: waits for run_at (also while sleeping or waiting for a child); running: leased;
  -- completed, failed, cancelled: finished.
  status text not null default 'pending'
    check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  priority integer not null default 0,
  run_at timestamptz not null default now(),
  attempts integer not null default 0,
  dedupe_key text,
  locked_by uuid,
  locked_at timestamptz,
  last_error text,
  result jsonb,
  parent_id uuid,
  parent_step text,
  waiting_for uuid,
  cancel_requested boolean not null default false,
  cancel_reason text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);

-- What a worker claims: runnable rows of its queue, best priority first, then oldest due.
create index executions_claim_idx on pgconductor.executions (queue, priority desc, run_at, id)
  where status = 'pending';
-- A second invoke with the key of an unfinished execution finds the first.
create unique index executions_dedupe_idx on pgconductor.executions (task_key, queue, dedupe_key)
  where dedupe_key is not null and status in ('pending', 'running');
create index executions_locked_by_idx on pgconductor.executions (locked_by) where status = 'running';
create index executions_parent_idx on pgconductor.executions (parent_id) where parent_id is not null;

-- Durable step results (also sleeps and child results), returned instead of re-running the step.
create table pgconductor.steps (
  execution_id uuid not null references pgconductor.executions (id) on delete cascade,
  name text not null,
  result jsonb,
  created_at timestamptz not null default now(),
  primary key (execution_id, name)
);

-- One NOTIFY per statement and queue, never per row: the payload is the queue and the earliest
-- run_at in epoch milliseconds, so a worker can claim now or arm a timer for later.
create function pgconductor.notify_work(p_queue text, p_run_at timestamptz) returns void
language sql as $$
  select pg_notify('pgconductor_work',
    p_queue || '|' || (floor(extract(epoch from p_run_at) * 1000))::bigint);
$$;

-- Execution events for conductor.observe(): the transitions below call it once per statement with
-- the rows they changed. A stand-in here so SQL-language callers can be created;
-- 006_observability.sql gives it its body, which returns at once while no process observes.
-- Whether any process observes executions (replaced in 006_observability.sql).
create function pgconductor.observed() returns boolean language sql stable as $$ select false $$;

create function pgconductor.announce(p_kind text, p_ids uuid[], p_attempts integer[] default null)
returns void language plpgsql as $$ begin end $$;

create function pgconductor.notify_inserted() returns trigger
language plpgsql as $$
begin
  perform pgconductor.notify_work(queue, min(run_at))
  from inserted where status = 'pending' and run_at < 'infinity' group by queue;
  -- Checked first so that a bulk invoke does not collect its ids when nobody observes.
  if pgconductor.observed() then
    perform pgconductor.announce('created', (select array_agg(id) from inserted));
  end if;
  return null;
end $$;

create trigger executions_notify_inserted after insert on pgconductor.executions
  referencing new table as inserted for each statement
  execute function pgconductor.notify_inserted();

-- Invoke many executions at once. Arrays are parallel, one element per execution; the ids come back
-- in input order. A dedupe key that matches an unfinished execution returns that one's id.
create function pgconductor.invoke(
  p_task_keys text[], p_queues text[], p_payloads jsonb[], p_dedupe_keys text[],
  p_priorities integer[], p_run_ats timestamptz[], p_event_names text[] default null
) returns table (id uuid)
language sql as $$
  insert into pgconductor.executions as e
    (task_key, queue, payload, dedupe_key, priority, run_at, event_name)
  select t.task_key, t.queue, t.payload, t.dedupe_key, coalesce(t.priority, 0),
         coalesce(t.run_at, now()), coalesce(t.event_name, 'pgconductor.invoke')
  from unnest(p_task_keys, p_queues, p_payloads, p_dedupe_keys, p_priorities, p_run_ats,
              coalesce(p_event_names, array_fill(null::text, array[cardinality(p_task_keys)])))
       as t(task_key, queue, payload, dedupe_key, priority, run_at, event_name)
  on conflict (task_key, queue, dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running')
    do update set dedupe_key = excluded.dedupe_key
  returning e.id;
$$;

-- Lease up to p_limit runnable executions of a queue for an orchestrator.
create function pgconductor.claim(
  p_orchestrator uuid, p_queue text, p_task_keys text[], p_limit integer
) returns table (
  id uuid, task_key text, queue text, event_name text, payload jsonb, attempts integer,
  steps jsonb, cancel_requested boolean
)
language sql as $$
  with picked as (
    select c.id from pgconductor.executions c
    where c.queue = p_queue and c.status = 'pending' and c.run_at <= now()
      and c.task_key = any (p_task_keys)
    order by c.priority desc, c.run_at, c.id
    limit p_limit
    for update skip locked
  ), claimed as (
  update pgconductor.executions e
  set status = 'running', locked_by = p_orchestrator, locked_at = now(),
      attempts = e.attempts + 1, started_at = coalesce(e.started_at, now())
  from picked where e.id = picked.id
  returning e.id, e.task_key, e.queue, e.event_name, e.payload, e.attempts,
    (select jsonb_object_agg(s.name, s.result) from pgconductor.steps s where s.execution_id = e.id) as steps,
    e.cancel_requested
  ), announced as (
    -- a CTE with a volatile call is evaluated once, not per row
    select pgconductor.announce('started', array_agg(id), array_agg(attempts)) from claimed
  )
  select claimed.* from claimed, announced;
$$;

-- The earliest future run_at of a queue, for the worker's timer.
create function pgconductor.next_run_at(p_queue text, p_task_keys text[]) returns timestamptz
language sql stable as $$
  select min(run_at) from pgconductor.executions
  where queue = p_queue and status = 'pending' and run_at > now() and task_key = any (p_task_keys)
    and run_at < 'infinity';
$$;

-- A parent waiting on these (now finished) children gets the child's outcome as its step and runs again.
create function pgconductor.wake_parents(p_child_ids uuid[]) returns void
language plpgsql as $$
declare
  r record;
begin
  insert into pgconductor.steps (execution_id, name, result)
  select c.parent_id, c.parent_step, case c.status
      when 'completed' then jsonb_build_object('result', c.result)
      when 'failed' then jsonb_build_object('error', c.last_error)
      else jsonb_build_object('error', 'cancelled' || coalesce(': ' || c.cancel_reason, '')) end
  from pgconductor.executions c
  where c.id = any (p_child_ids) and c.parent_id is not null
    and c.status in ('completed', 'failed', 'cancelled')
  on conflict do nothing;

  for r in
    with woken as (
      update pgconductor.executions p set run_at = now(), waiting_for = null
      from pgconductor.executions c
      where c.id = any (p_child_ids) and p.id = c.parent_id and p.status = 'pending'
        and p.waiting_for = c.id
      returning p.queue
    )
    select distinct queue from woken
  loop
    perform pgconductor.notify_work(r.queue, now());
  end loop;
end $$;

-- Results of finished attempts, written in one statement per batch.
create function pgconductor.complete(p_ids uuid[], p_results jsonb[]) returns void
language plpgsql as $$
declare
  has_parent boolean;
  v_done uuid[];
begin
  with done as (
    update pgconductor.executions e
    set status = 'completed', result = r.result, finished_at = now(), locked_by = null, locked_at = null
    from unnest(p_ids, p_results) as r(id, result)
    where e.id = r.id and e.status = 'running'
    returning e.id, e.parent_id
  )
  select bool_or(parent_id is not null), array_agg(id) into has_parent, v_done from done;
  perform pgconductor.announce('completed', v_done);
  if has_parent then
    perform pgconductor.wake_parents(p_ids);
  end if;
end $$;

-- Backoff before the next attempt after n failed ones: 15 s, 30 s, then 60 s.
create function pgconductor.retry_delay(p_attempts integer) returns interval
language sql immutable as $$
  select case when p_attempts <= 1 then interval '15 seconds'
              when p_attempts = 2 then interval '30 seconds'
              else interval '60 seconds' end;
$$;

-- Failed attempts: retried after the backoff while attempts remain (and p_final is false),
-- otherwise recorded as failed with the last error.
create function pgconductor.fail(p_ids uuid[], p_errors text[], p_final boolean[]) returns void
language plpgsql as $$
declare
  r record;
  has_parent boolean := false;
  v_failed uuid[] := '{}';
begin
  for r in
    with outcome as (
      select e.id, f.error, (f.final or e.attempts >= coalesce(t.max_attempts, 3)) as give_up
      from unnest(p_ids, p_errors, p_final) as f(id, error, final)
      join pgconductor.executions e on e.id = f.id and e.status = 'running'
      left join pgconductor.tasks t on t.key = e.task_key
    ), updated as (
      update pgconductor.executions e set
        status = case when o.give_up then 'failed' else 'pending' end,
        run_at = case when o.give_up then e.run_at else now() + pgconductor.retry_delay(e.attempts) end,
        finished_at = case when o.give_up then now() end,
        last_error = o.error, locked_by = null, locked_at = null
      from outcome o where e.id = o.id
      returning e.id, e.queue, e.status, e.run_at, e.parent_id
    )
    select queue, min(run_at) filter (where status = 'pending') as next_run_at,
           bool_or(parent_id is not null and status = 'failed') as wakes_parent, array_agg(id) as ids
    from updated group by queue
  loop
    if r.next_run_at is not null then
      perform pgconductor.notify_work(r.queue, r.next_run_at);
    end if;
    has_parent := has_parent or r.wakes_parent;
    v_failed := v_failed || r.ids;
  end loop;
  perform pgconductor.announce('fail', v_failed);
  if has_parent then
    perform pgconductor.wake_parents(p_ids);
  end if;
end $$;
