-- Trace context from invoke to the handler, and the queue wait on the database's clock.
-- The claims also return each execution's run_at (when it became due), locked_at (the claim's
-- time, the same clock) and trace_context, so the runner can record due -> started and continue
-- the invoking trace without another read. Otherwise they are as in 001_core.sql and
-- 010_flow_control.sql; callers that read only the old columns are unaffected.

drop function pgconductor.claim(uuid, text, text[], integer);
create function pgconductor.claim(
  p_orchestrator uuid, p_queue text, p_task_keys text[], p_limit integer
) returns table (
  id uuid, task_key text, queue text, event_name text, payload jsonb, attempts integer,
  steps jsonb, cancel_requested boolean, run_at timestamptz, locked_at timestamptz, trace_context text
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
    e.cancel_requested, e.run_at, e.locked_at, e.trace_context
  ), announced as (
    -- a CTE with a volatile call is evaluated once, not per row
    select pgconductor.announce('started', array_agg(id), array_agg(attempts)) from claimed
  )
  select claimed.* from claimed, announced;
$$;

drop function pgconductor.claim_limited(uuid, text, text[], text[], integer[], integer[], integer[], double precision[], boolean[], integer);
create function pgconductor.claim_limited(
  p_orchestrator uuid, p_queue text, p_task_keys text[], p_limited_keys text[],
  p_concurrency integer[], p_key_concurrency integer[], p_rate_limits integer[],
  p_rate_periods double precision[], p_rate_per_key boolean[], p_limit integer
) returns table (
  id uuid, task_key text, queue text, event_name text, payload jsonb, attempts integer,
  steps jsonb, cancel_requested boolean, run_at timestamptz, locked_at timestamptz, trace_context text
)
language plpgsql set plan_cache_mode = force_generic_plan as $$
declare
  i integer;
  v_key text;
  v_free integer;
  v_running integer;
  v_left integer := p_limit;
  v_ids uuid[] := '{}';
  v_picked uuid[];
  v_now timestamptz;
  v_rate record;
  v_keyed record;
  v_task_rate boolean;
  v_wake timestamptz;
  v_unlimited text[];
begin
  if exists (select 1 from pgconductor.pauses p where p.kind = 'queue' and p.name = p_queue) then
    return;
  end if;
  for i in 1 .. coalesce(cardinality(p_limited_keys), 0) loop
    exit when v_left <= 0;
    v_key := p_limited_keys[i];
    continue when exists (select 1 from pgconductor.pauses p where p.kind = 'task' and p.name = v_key);
    continue when not pg_try_advisory_xact_lock(7114650, hashtext(v_key));
    -- Rate-log times are read after the lock: a later holder always writes later times.
    v_now := clock_timestamp();
    v_free := v_left;
    if p_concurrency[i] is not null then
      select count(*) into v_running from pgconductor.executions c
      where c.status = 'running' and c.task_key = v_key;
      v_free := least(v_free, p_concurrency[i] - v_running);
    end if;
    v_task_rate := p_rate_limits[i] is not null and not coalesce(p_rate_per_key[i], false);
    if v_task_rate and v_free > 0 then
      select * into v_rate from pgconductor.rate_room(v_key, '', p_rate_limits[i], p_rate_periods[i], v_now);
      if v_rate.room = 0 and pgconductor.has_due(v_key, p_queue, null, '{}') then
        v_wake := least(v_wake, v_rate.next_at);
      end if;
      v_free := least(v_free, v_rate.room);
    end if;
    continue when v_free <= 0;

    if p_key_concurrency[i] is not null or coalesce(p_rate_per_key[i], false) then
      select * into v_keyed from pgconductor.pick_keyed(v_key, p_queue, v_free, p_key_concurrency[i],
        case when v_task_rate then null else p_rate_limits[i] end, p_rate_periods[i], v_now);
      v_picked := v_keyed.picked;
      v_wake := least(v_wake, v_keyed.wake_at);
    else
      v_picked := pgconductor.pick_due(v_key, p_queue, null, false, v_free);
    end if;
    if v_task_rate and cardinality(v_picked) > 0 then
      insert into pgconductor.rate_starts (task_key, key, started_at)
      select v_key, '', v_now from unnest(v_picked);
      if cardinality(v_picked) = v_rate.room and pgconductor.has_due(v_key, p_queue, null, v_picked) then
        v_wake := least(v_wake, pgconductor.rate_next_at(v_key, '', p_rate_limits[i], p_rate_periods[i]));
      end if;
    end if;
    v_ids := v_ids || v_picked;
    v_left := v_left - cardinality(v_picked);
  end loop;

  -- The unlimited tasks, as in claim_with_limits: the best rows of each task, then the best of those.
  v_unlimited := pgconductor.unpaused_task_keys(p_queue, p_task_keys);
  if v_left > 0 and cardinality(v_unlimited) > 0 then
    select array_agg(c.id) into v_picked from (
      select c.id from unnest(v_unlimited) as k(key)
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

  if v_wake is not null then
    perform pgconductor.notify_work(p_queue, v_wake);
  end if;

  return query
    update pgconductor.executions e
    set status = 'running', locked_by = p_orchestrator, locked_at = coalesce(v_now, now()),
        attempts = e.attempts + 1, started_at = coalesce(e.started_at, now())
    where e.id = any (v_ids)
    returning e.id, e.task_key, e.queue, e.event_name, e.payload, e.attempts,
      (select jsonb_object_agg(s.name, s.result) from pgconductor.steps s where s.execution_id = e.id),
      e.cancel_requested, e.run_at, e.locked_at, e.trace_context;
  perform pgconductor.announce('started', v_ids);
end $$;

-- ctx.invoke, as in 002_lifecycle.sql, storing the parent's trace context on the child it creates.
drop function pgconductor.invoke_child(uuid, text, text, text, jsonb, bigint);
create function pgconductor.invoke_child(
  p_parent uuid, p_step text, p_task_key text, p_queue text, p_payload jsonb, p_timeout_ms bigint,
  p_trace_context text default null
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
    insert into pgconductor.executions (task_key, queue, payload, parent_id, parent_step, trace_context)
    values (p_task_key, p_queue, p_payload, p_parent, p_step, p_trace_context)
    returning id into v_child;
  end if;
  perform pgconductor.hang_up(p_parent, coalesce(v_deadline, 'infinity'), v_child);
  return query select 'waiting'::text, null::jsonb;
end $$;

-- Rows written by invoke_gated and invoke_keyed (throttle, debounce, concurrency_key) get their
-- trace context from this, in the invoke's transaction: an execution that already has one (a
-- throttled or debounced call joining an earlier one) keeps it.
create function pgconductor.set_trace_contexts(p_ids uuid[], p_trace_contexts text[]) returns void
language sql as $$
  update pgconductor.executions e set trace_context = t.trace_context
  from unnest(p_ids, p_trace_contexts) as t(id, trace_context)
  where e.id = t.id and t.trace_context is not null and e.trace_context is null;
$$;
