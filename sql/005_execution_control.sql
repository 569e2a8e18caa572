-- Execution control: task concurrency limits, time windows, batching and retention settings,
-- throttle/debounce gates on invoke, maintenance.

-- Settings beyond max_attempts, written by configure_tasks at orchestrator start. Null concurrency:
-- unlimited. Null remove_on_*: keep forever; a zero interval: remove as soon as it finishes.
alter table pgconductor.tasks
  add column concurrency integer check (concurrency is null or concurrency > 0),
  add column window_start time,
  add column window_end time,
  add column window_time_zone text,
  add column remove_on_complete interval default interval '7 days',
  add column remove_on_fail interval default interval '30 days',
  add column batch_size integer,
  add column batch_timeout_ms integer;

-- Finding the due rows of one limited task must not scan the backlog of every other task in its queue.
create index executions_task_pending_idx on pgconductor.executions (task_key, priority desc, run_at, id)
  where status = 'pending';
-- Retention scans finished rows by age.
create index executions_finished_idx on pgconductor.executions (finished_at)
  where status in ('completed', 'failed', 'cancelled');

create function pgconductor.configure_tasks(
  p_keys text[], p_concurrency integer[], p_window_start time[], p_window_end time[], p_window_tz text[],
  p_remove_on_complete interval[], p_remove_on_fail interval[], p_batch_size integer[], p_batch_timeout_ms integer[]
) returns void language sql as $$
  update pgconductor.tasks t set
    concurrency = s.concurrency, window_start = s.window_start, window_end = s.window_end,
    window_time_zone = s.window_tz, remove_on_complete = s.remove_on_complete,
    remove_on_fail = s.remove_on_fail, batch_size = s.batch_size, batch_timeout_ms = s.batch_timeout_ms,
    updated_at = now()
  from unnest(p_keys, p_concurrency, p_window_start, p_window_end, p_window_tz, p_remove_on_complete,
              p_remove_on_fail, p_batch_size, p_batch_timeout_ms)
       as s(key, concurrency, window_start, window_end, window_tz, remove_on_complete, remove_on_fail,
            batch_size, batch_timeout_ms)
  where t.key = s.key;
$$;

-- Claim for a worker some of whose tasks have a concurrency limit (p_limits, parallel to
-- p_limited_keys, from the worker's task settings). Limited tasks go first, each up to its free
-- slots; the rest of p_limit goes to the unlimited tasks.
-- A transaction-scoped advisory lock per task (class 7114650, object the hash of its key) makes the
-- count of its running executions and the claim atomic: a claimer that finds it taken skips that
-- task (the holder claims for it), so limited tasks never serialise the queue. Only claim turns
-- pending into running, and the lock is released after commit, so the count read after taking it
-- includes every earlier claim. (Two keys with the same hash merely share a lock.)
-- Plans are generic: this runs for every claim of such a worker, and re-planning would cost more
-- than the statements themselves.
create function pgconductor.claim_with_limits(
  p_orchestrator uuid, p_queue text, p_task_keys text[], p_limited_keys text[], p_limits integer[],
  p_limit integer
) returns table (
  id uuid, task_key text, queue text, event_name text, payload jsonb, attempts integer,
  steps jsonb, cancel_requested boolean
)
language plpgsql set plan_cache_mode = force_generic_plan as $$
declare
  i integer;
  v_running integer;
  v_free integer;
  v_left integer := p_limit;
  v_ids uuid[] := '{}';
  v_picked uuid[];
begin
  -- Rows are first picked and locked into arrays, then claimed by id in one update: with generic
  -- plans a join against a CTE of unknown size can turn into a scan of the whole table.
  for i in 1 .. coalesce(cardinality(p_limited_keys), 0) loop
    exit when v_left <= 0;
    continue when not pg_try_advisory_xact_lock(7114650, hashtext(p_limited_keys[i]));
    select count(*) into v_running from pgconductor.executions c
    where c.status = 'running' and c.task_key = p_limited_keys[i];
    v_free := least(v_left, p_limits[i] - v_running);
    continue when v_free <= 0;
    -- In the per-task queries, `(queue = p_queue) is true` is deliberately not indexable: with a plain
    -- equality the planner tends to take the queue-wide claim index and walk past the whole backlog
    -- of the other tasks; this way it takes executions_task_pending_idx.
    select array_agg(c.id) into v_picked from (
      select c.id from pgconductor.executions c
      where c.task_key = p_limited_keys[i] and (c.queue = p_queue) is true and c.status = 'pending'
        and c.run_at <= now()
      order by c.priority desc, c.run_at, c.id
      limit v_free
      for update skip locked) c;
    v_ids := v_ids || coalesce(v_picked, '{}');
    v_left := v_left - coalesce(cardinality(v_picked), 0);
  end loop;

  -- The unlimited tasks: the best rows of each task (through the per-task index; the queue-wide
  -- index would walk past the backlog of the limited tasks, which wait there by design, on every
  -- claim), then the best of those. With several unlimited tasks a few more rows than needed stay
  -- locked until commit; other claimers skip them.
  if v_left > 0 and cardinality(p_task_keys) > 0 then
    select array_agg(c.id) into v_picked from (
      select c.id from unnest(p_task_keys) as k(key)
      cross join lateral (
        select x.id, x.priority, x.run_at from pgconductor.executions x
        where x.task_key = k.key and (x.queue = p_queue) is true and x.status = 'pending' and x.run_at <= now()
        order by x.priority desc, x.run_at, x.id
        limit v_left
        for update skip locked) c
      order by c.priority desc, c.run_at, c.id
      limit v_left) c;
    v_ids := v_ids || coalesce(v_picked, '{}');
  end if;

  return query
    update pgconductor.executions e
    set status = 'running', locked_by = p_orchestrator, locked_at = now(),
        attempts = e.attempts + 1, started_at = coalesce(e.started_at, now())
    where e.id = any (v_ids)
    returning e.id, e.task_key, e.queue, e.event_name, e.payload, e.attempts,
      (select jsonb_object_agg(s.name, s.result) from pgconductor.steps s where s.execution_id = e.id),
      e.cancel_requested;
  perform pgconductor.announce('started', v_ids); -- execution events (006_observability.sql)
end $$;

-- A slot of a limited task was freed: if such a task has work waiting, every worker of the queue may
-- claim again (one may run on another machine).
create function pgconductor.wake_queue(p_queue text, p_task_keys text[]) returns void
language sql as $$
  select pgconductor.notify_work(p_queue, now())
  where exists (select from pgconductor.executions c
                where c.task_key = any (p_task_keys) and (c.queue = p_queue) is true
                  and c.status = 'pending' and c.run_at <= now());
$$;

-- Tasks set to be removed as soon as they finish ("removeOnComplete: true"): only rows that did finish.
create function pgconductor.remove_finished(p_completed uuid[], p_failed uuid[]) returns void
language sql as $$
  delete from pgconductor.executions e
  where ((e.id = any (p_completed) and e.status = 'completed') or (e.id = any (p_failed) and e.status = 'failed'))
    and not exists (select 1 from pgconductor.executions c
                    where c.parent_id = e.id and c.status in ('pending', 'running'));
$$;

-- Throttle and debounce: one gate per task, queue and key ('' when the call has no dedupe key).
-- Throttle: the execution made at the window's start; calls until window_until get its id.
-- Debounce: the pending execution that later calls push back and overwrite.
create table pgconductor.invoke_gates (
  task_key text not null,
  queue text not null,
  key text not null,
  kind text not null check (kind in ('throttle', 'debounce')),
  execution_id uuid,
  window_until timestamptz,
  updated_at timestamptz not null default now(),
  primary key (task_key, queue, key, kind)
);

-- Invoke through gates, one row after another in input order (a later row of the same key sees the
-- earlier one), returning one id per row. Concurrent calls for one gate queue up on its row lock.
create function pgconductor.invoke_gated(
  p_task_keys text[], p_queues text[], p_payloads jsonb[], p_keys text[], p_priorities integer[],
  p_run_ats timestamptz[], p_kinds text[], p_seconds double precision[]
) returns table (id uuid)
language plpgsql as $$
declare
  i integer;
  v_key text;
  v_gate pgconductor.invoke_gates;
  v_id uuid;
  v_run_at timestamptz;
  v_queue text;
begin
  for i in 1 .. coalesce(cardinality(p_task_keys), 0) loop
    v_key := coalesce(p_keys[i], '');
    insert into pgconductor.invoke_gates (task_key, queue, key, kind)
    values (p_task_keys[i], p_queues[i], v_key, p_kinds[i])
    on conflict do nothing;
    select * into v_gate from pgconductor.invoke_gates g
    where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = p_kinds[i]
    for update;
    v_id := null;

    if p_kinds[i] = 'throttle' then
      if v_gate.execution_id is not null and v_gate.window_until > now() then
        v_id := v_gate.execution_id;
      else
        v_run_at := greatest(coalesce(p_run_ats[i], now()), now());
        insert into pgconductor.executions (task_key, queue, payload, priority, run_at)
        values (p_task_keys[i], p_queues[i], p_payloads[i], coalesce(p_priorities[i], 0), v_run_at)
        returning executions.id into v_id;
        update pgconductor.invoke_gates g
        set execution_id = v_id, window_until = v_run_at + make_interval(secs => p_seconds[i]), updated_at = now()
        where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = 'throttle';
      end if;
    else
      v_run_at := now() + make_interval(secs => p_seconds[i]);
      if v_gate.execution_id is not null then
        -- Still waiting to start: this call replaces its payload and pushes it back.
        update pgconductor.executions e
        set payload = p_payloads[i], run_at = v_run_at, priority = coalesce(p_priorities[i], 0)
        where e.id = v_gate.execution_id and e.status = 'pending' and e.attempts = 0
        returning e.id, e.queue into v_id, v_queue;
        if v_id is not null then
          perform pgconductor.notify_work(v_queue, v_run_at);
        end if;
      end if;
      if v_id is null then
        insert into pgconductor.executions (task_key, queue, payload, priority, run_at)
        values (p_task_keys[i], p_queues[i], p_payloads[i], coalesce(p_priorities[i], 0), v_run_at)
        returning executions.id into v_id;
      end if;
      update pgconductor.invoke_gates g
      set execution_id = v_id, window_until = v_run_at, updated_at = now()
      where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = 'debounce';
    end if;
    id := v_id;
    return next;
  end loop;
end $$;

-- Maintenance, run by one orchestrator at a time (the caller holds the maintenance advisory lock).
create table pgconductor.maintenance_runs (
  id boolean primary key default true check (id),
  last_run_at timestamptz not null
);

-- Removes finished executions past their task's retention (tasks without settings use the defaults
-- of the tasks table), orphaned steps, expired gates and dead orchestrators. Deletes in chunks so no
-- statement holds many row locks for long. Returns counts by kind.
create function pgconductor.run_maintenance(p_lease_ms bigint, p_now timestamptz default now())
returns jsonb language plpgsql as $$
declare
  v_completed bigint := 0;
  v_failed bigint := 0;
  v_n bigint;
  v_steps bigint;
  v_gates bigint;
  v_orchestrators bigint;
  v_events bigint;
  v_n_failed bigint;
  -- The column defaults of pgconductor.tasks, for executions of tasks no orchestrator has registered.
  v_default_complete interval := interval '7 days';
  v_default_fail interval := interval '30 days';
begin
  -- Finished executions past their task's retention (removeOnComplete for completed ones,
  -- removeOnFail for failed and cancelled ones; null = keep forever), in chunks.
  loop
    with doomed as (
      select e.id, e.status from pgconductor.executions e
      left join pgconductor.tasks t on t.key = e.task_key
      where e.status in ('completed', 'failed', 'cancelled')
        and e.finished_at <= p_now - case
          when e.status = 'completed' then case when t.key is null then v_default_complete else t.remove_on_complete end
          else case when t.key is null then v_default_fail else t.remove_on_fail end end
        -- A parent still waiting for a child would get the child's result written to a missing row.
        and not exists (select 1 from pgconductor.executions c
                        where c.parent_id = e.id and c.status in ('pending', 'running'))
      limit 5000
    ), deleted as (
      delete from pgconductor.executions e using doomed where e.id = doomed.id returning doomed.status
    )
    select count(*) filter (where status = 'completed'), count(*) filter (where status <> 'completed')
      into v_n, v_n_failed from deleted;
    v_completed := v_completed + v_n;
    v_failed := v_failed + v_n_failed;
    exit when v_n + v_n_failed < 5000;
  end loop;

  delete from pgconductor.steps s
  where not exists (select 1 from pgconductor.executions e where e.id = s.execution_id);
  get diagnostics v_steps = row_count;

  delete from pgconductor.invoke_gates g
  where coalesce(g.window_until, g.updated_at) < p_now - interval '1 day'
    and not exists (select 1 from pgconductor.executions e where e.id = g.execution_id and e.status = 'pending');
  get diagnostics v_gates = row_count;

  delete from pgconductor.orchestrators
  where last_heartbeat_at < p_now - make_interval(secs => p_lease_ms / 1000.0);
  get diagnostics v_orchestrators = row_count;

  -- Emitted events are a record only (their executions carry the payload): kept as long as failures.
  delete from pgconductor.events where created_at < p_now - v_default_fail;
  get diagnostics v_events = row_count;
  perform pgconductor.recover_expired(p_lease_ms);

  insert into pgconductor.maintenance_runs (last_run_at) values (p_now)
  on conflict (id) do update set last_run_at = excluded.last_run_at;

  return jsonb_build_object('completed', v_completed, 'failed', v_failed, 'steps', v_steps,
    'gates', v_gates, 'orchestrators', v_orchestrators, 'events', v_events);
end $$;
