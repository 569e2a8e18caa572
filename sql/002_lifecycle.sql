-- Durable execution and leases: steps, sleeps, children, release, cancel, heartbeats.

-- Task settings, written by an orchestrator at start.
create function pgconductor.upsert_tasks(p_keys text[], p_queues text[], p_max_attempts integer[])
returns void language sql as $$
  insert into pgconductor.tasks (key, queue, max_attempts)
  select * from unnest(p_keys, p_queues, p_max_attempts)
  on conflict (key) do update set queue = excluded.queue, max_attempts = excluded.max_attempts,
    updated_at = now();
$$;

-- Hand executions back to the queue without counting the attempt (graceful stop, checkpoint).
create function pgconductor.release(p_ids uuid[]) returns void
language plpgsql as $$
declare
  r record;
  v_released uuid[] := '{}';
begin
  for r in
    with released as (
      update pgconductor.executions
      set status = 'pending', run_at = now(), attempts = greatest(attempts - 1, 0),
          locked_by = null, locked_at = null
      where id = any (p_ids) and status = 'running'
      returning id, queue
    )
    select queue, array_agg(id) as ids from released group by queue
  loop
    perform pgconductor.notify_work(r.queue, now());
    v_released := v_released || r.ids;
  end loop;
  perform pgconductor.announce('released', v_released);
end $$;

-- The execution hangs up until p_until (a sleep): its attempt is not counted, its slot is freed.
create function pgconductor.hang_up(p_id uuid, p_until timestamptz, p_waiting_for uuid default null)
returns void language plpgsql as $$
declare
  v_queue text;
begin
  update pgconductor.executions
  set status = 'pending', run_at = p_until, waiting_for = p_waiting_for,
      attempts = greatest(attempts - 1, 0), locked_by = null, locked_at = null
  where id = p_id and status = 'running'
  returning queue into v_queue;
  if v_queue is not null and p_until < 'infinity' then
    perform pgconductor.notify_work(v_queue, p_until);
  end if;
end $$;

-- Step results of many executions in one statement (steps finishing together are written together).
-- A step of an execution deleted meanwhile is skipped rather than failing the others of the batch.
create function pgconductor.save_steps(p_ids uuid[], p_names text[], p_results jsonb[]) returns void
language sql as $$
  insert into pgconductor.steps (execution_id, name, result)
  select distinct on (s.id, s.name) s.id, s.name, s.result
  from unnest(p_ids, p_names, p_results) with ordinality as s(id, name, result, ord)
  where exists (select 1 from pgconductor.executions e where e.id = s.id)
  order by s.id, s.name, s.ord -- the first write of a name wins, as for separate statements
  on conflict do nothing;
$$;

-- ctx.sleep: 'done' once the sleep's due time has passed, else the execution hangs up until then.
create function pgconductor.sleep(p_id uuid, p_name text, p_ms bigint) returns text
language plpgsql as $$
declare
  v_until timestamptz;
begin
  insert into pgconductor.steps (execution_id, name, result)
  values (p_id, p_name, jsonb_build_object('until', now() + make_interval(secs => p_ms / 1000.0)))
  on conflict do nothing;
  select (result ->> 'until')::timestamptz into v_until
  from pgconductor.steps where execution_id = p_id and name = p_name;
  if v_until <= clock_timestamp() then
    return 'done';
  end if;
  perform pgconductor.hang_up(p_id, v_until);
  return 'waiting';
end $$;

-- ctx.invoke: the child is created once per parent and step; the parent hangs up until the child
-- ends (wake_parents stores the child's outcome as the parent's step) or the timeout passes.
-- Returns ('done', outcome), ('waiting', null) or ('timeout', null).
create function pgconductor.invoke_child(
  p_parent uuid, p_step text, p_task_key text, p_queue text, p_payload jsonb, p_timeout_ms bigint
) returns table (state text, outcome jsonb)
language plpgsql as $$
declare
  v_child uuid;
  v_deadline timestamptz;
  v_outcome jsonb;
begin
  select result into v_outcome from pgconductor.steps where execution_id = p_parent and name = p_step;
  if found then
    return query select 'done'::text, v_outcome;
    return;
  end if;

  if p_timeout_ms is not null then
    insert into pgconductor.steps (execution_id, name, result)
    values (p_parent, p_step || '#deadline',
            jsonb_build_object('until', now() + make_interval(secs => p_timeout_ms / 1000.0)))
    on conflict do nothing;
    select (result ->> 'until')::timestamptz into v_deadline
    from pgconductor.steps where execution_id = p_parent and name = p_step || '#deadline';
    if v_deadline <= clock_timestamp() then
      return query select 'timeout'::text, null::jsonb;
      return;
    end if;
  end if;

  select e.id into v_child from pgconductor.executions e
  where e.parent_id = p_parent and e.parent_step = p_step;
  if v_child is null then
    insert into pgconductor.executions (task_key, queue, payload, parent_id, parent_step)
    values (p_task_key, p_queue, p_payload, p_parent, p_step)
    returning id into v_child;
  end if;
  perform pgconductor.hang_up(p_parent, coalesce(v_deadline, 'infinity'), v_child);
  return query select 'waiting'::text, null::jsonb;
end $$;

-- Cancel an execution and the unfinished executions below it. A pending one is cancelled at once;
-- a running one is asked to stop (NOTIFY to the orchestrator holding it). False when already finished.
create function pgconductor.cancel(p_id uuid, p_reason text) returns boolean
language plpgsql as $$
declare
  v_status text;
  r record;
  v_cancelled uuid[] := '{}';
begin
  select status into v_status from pgconductor.executions where id = p_id for update;
  if v_status is null or v_status in ('completed', 'failed', 'cancelled') then
    return false;
  end if;

  for r in
    with recursive tree as (
      select id from pgconductor.executions where id = p_id
      union all
      select c.id from pgconductor.executions c join tree on c.parent_id = tree.id
    ), requested as (
      update pgconductor.executions e
      set cancel_requested = true, cancel_reason = p_reason,
          status = case when e.status = 'pending' then 'cancelled' else e.status end,
          finished_at = case when e.status = 'pending' then now() else e.finished_at end
      from tree where e.id = tree.id and e.status in ('pending', 'running')
      returning e.id, e.status, e.locked_by
    )
    select id, status, locked_by from requested
  loop
    if r.status = 'running' then
      perform pg_notify('pgconductor_cancel', r.locked_by::text || '|' || r.id::text);
    else
      v_cancelled := v_cancelled || r.id;
    end if;
  end loop;
  perform pgconductor.announce('cancelled', v_cancelled);
  perform pgconductor.wake_parents(array[p_id]);
  return true;
end $$;

-- A running execution that stopped because it was cancelled.
create function pgconductor.mark_cancelled(p_ids uuid[]) returns void
language plpgsql as $$
declare
  v_cancelled uuid[];
begin
  with stopped as (
    update pgconductor.executions
    set status = 'cancelled', finished_at = now(), locked_by = null, locked_at = null
    where id = any (p_ids) and status = 'running'
    returning id
  )
  select array_agg(id) into v_cancelled from stopped;
  perform pgconductor.announce('cancelled', v_cancelled);
  perform pgconductor.wake_parents(p_ids);
end $$;

create function pgconductor.register_orchestrator(
  p_id uuid, p_hostname text, p_pid integer, p_schema_version integer
) returns void language sql as $$
  insert into pgconductor.orchestrators (id, hostname, pid, schema_version)
  values (p_id, p_hostname, p_pid, p_schema_version)
  on conflict (id) do update set last_heartbeat_at = now();
$$;

-- Keeps the lease alive. Returns whether this orchestrator has been asked to stop (a breaking
-- migration waits for it), and which of its executions were cancelled, in case a cancel NOTIFY was lost.
create function pgconductor.heartbeat(p_id uuid)
returns table (stop_requested boolean, cancelled_ids uuid[])
language sql as $$
  with me as (
    update pgconductor.orchestrators set last_heartbeat_at = now() where id = p_id
    returning stop_requested
  )
  select coalesce((select stop_requested from me), true),
    (select array_agg(id) from pgconductor.executions
     where locked_by = p_id and status = 'running' and cancel_requested);
$$;

create function pgconductor.unregister_orchestrator(p_id uuid) returns void
language plpgsql as $$
declare
  v_ids uuid[];
begin
  select array_agg(id) into v_ids from pgconductor.executions where locked_by = p_id and status = 'running';
  if v_ids is not null then
    perform pgconductor.release(v_ids);
  end if;
  delete from pgconductor.orchestrators where id = p_id;
end $$;

-- Orchestrators silent for longer than the lease are dead: their executions return to the queue
-- (the interrupted attempt counts) and resume from their last completed step.
create function pgconductor.recover_expired(p_lease_ms bigint) returns integer
language plpgsql as $$
declare
  v_count integer := 0;
  r record;
  v_recovered uuid[] := '{}';
begin
  delete from pgconductor.orchestrators
  where last_heartbeat_at < now() - make_interval(secs => p_lease_ms / 1000.0);
  for r in
    with recovered as (
      update pgconductor.executions e
      set status = 'pending', run_at = now(), locked_by = null, locked_at = null
      where e.status = 'running'
        and e.locked_at < now() - make_interval(secs => p_lease_ms / 1000.0)
        and not exists (select 1 from pgconductor.orchestrators o where o.id = e.locked_by)
      returning e.id, e.queue
    )
    select queue, count(*) as n, array_agg(id) as ids from recovered group by queue
  loop
    v_count := v_count + r.n;
    v_recovered := v_recovered || r.ids;
    perform pgconductor.notify_work(r.queue, now());
  end loop;
  perform pgconductor.announce('released', v_recovered);
  return v_count;
end $$;
