-- Cron schedules and custom events.
--
-- A schedule always has its next fire materialised as a pending execution (run_at = fire time), so
-- the worker's due timer starts it like any delayed job. When that fire time comes, an orchestrator
-- running the task computes the following fire time (cron-parser, in TypeScript) and moves the
-- schedule forward with a compare-and-set on schedules.next_run_at under a row lock: whatever the
-- number of orchestrators, each fire time is materialised once. Fire times that passed while
-- nothing ran are not replayed one by one: the execution already materialised runs once, late,
-- and the schedule continues from the present.

create table pgconductor.schedules (
  task_key text not null,
  name text not null,
  queue text not null,
  cron text not null,
  tz text not null default 'UTC',
  payload jsonb,
  -- false: a { cron, name } trigger, kept in sync by the orchestrators running the task;
  -- true: created by ctx.schedule / conductor.schedule, removed by unschedule.
  dynamic boolean not null,
  -- Fire time of the newest materialised execution; null until one is materialised.
  next_run_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (task_key, name)
);
create index schedules_next_run_at_idx on pgconductor.schedules (next_run_at);

-- The dedupe key of a schedule's execution for one fire time: the schedule name and the fire time
-- in epoch milliseconds. It also lets unschedule find the schedule's runs that have not started.
create function pgconductor.cron_dedupe_key(p_name text, p_fire_at timestamptz) returns text
language sql immutable as $$
  select 'pgconductor.cron:' || p_name || '@' || (floor(extract(epoch from p_fire_at) * 1000))::bigint;
$$;

create function pgconductor.notify_schedule(p_fire_at timestamptz) returns void
language sql as $$
  select pg_notify('pgconductor_schedule', (floor(extract(epoch from p_fire_at) * 1000))::bigint::text);
$$;

-- Runs of a schedule that have not started yet are cancelled (schedule removed or replaced).
create function pgconductor.cancel_unstarted_fires(p_task_key text, p_queue text, p_name text, p_reason text)
returns void language sql as $$
  with cancelled as (
    update pgconductor.executions
    set status = 'cancelled', cancel_requested = true, cancel_reason = p_reason, finished_at = now()
    where queue = p_queue and status = 'pending' and started_at is null
      and task_key = p_task_key and event_name = p_name
      and starts_with(dedupe_key, 'pgconductor.cron:' || p_name || '@')
    returning id
  )
  select pgconductor.announce('cancelled', array_agg(id)) from cancelled; -- execution events (006)
$$;

-- An orchestrator's static schedules, at start: the { cron, name } triggers of the tasks it runs
-- (p_task_keys) are upserted; the static schedules of those tasks that no longer exist are removed.
-- A new or changed schedule gets next_run_at = null: the orchestrator materialises its first fire.
create function pgconductor.sync_static_schedules(
  p_task_keys text[], p_keys text[], p_queues text[], p_names text[], p_crons text[], p_tzs text[]
) returns void
language plpgsql as $$
declare
  r record;
begin
  for r in
    select s.task_key, s.queue, s.name, w.name is null as removed
    from pgconductor.schedules s
    left join unnest(p_keys, p_queues, p_names, p_crons, p_tzs) as w(task_key, queue, name, cron, tz)
      on w.task_key = s.task_key and w.name = s.name
    where s.task_key = any (p_task_keys)
      and ((w.name is null and not s.dynamic)
        or (w.name is not null and (s.dynamic or s.cron <> w.cron or s.tz <> w.tz or s.queue <> w.queue)))
    for update of s
  loop
    perform pgconductor.cancel_unstarted_fires(r.task_key, r.queue, r.name,
      case when r.removed then 'schedule removed' else 'schedule changed' end);
    if r.removed then
      delete from pgconductor.schedules where task_key = r.task_key and name = r.name;
    end if;
  end loop;

  insert into pgconductor.schedules as s (task_key, queue, name, cron, tz, dynamic)
  select w.task_key, w.queue, w.name, w.cron, w.tz, false
  from unnest(p_keys, p_queues, p_names, p_crons, p_tzs) as w(task_key, queue, name, cron, tz)
  on conflict (task_key, name) do update set
    queue = excluded.queue, cron = excluded.cron, tz = excluded.tz, payload = null, dynamic = false,
    next_run_at = case
      when s.dynamic or s.cron <> excluded.cron or s.tz <> excluded.tz or s.queue <> excluded.queue then null
      else s.next_run_at end,
    updated_at = now()
  where s.dynamic or s.cron <> excluded.cron or s.tz <> excluded.tz or s.queue <> excluded.queue;
end $$;

-- Moves schedules forward: for each (task, name) whose next_run_at is still p_previous, the next fire
-- (p_next; null when the expression cannot be evaluated any more: parked at infinity) becomes
-- next_run_at and a pending execution. Returns how many schedules moved.
create function pgconductor.advance_schedules(
  p_task_keys text[], p_names text[], p_previous timestamptz[], p_next timestamptz[]
) returns integer
language plpgsql as $$
declare
  v_moved integer;
  v_earliest timestamptz;
begin
  with moved as (
    update pgconductor.schedules s
    set next_run_at = coalesce(a.next_run_at, 'infinity'), updated_at = now()
    from unnest(p_task_keys, p_names, p_previous, p_next) as a(task_key, name, previous, next_run_at)
    where s.task_key = a.task_key and s.name = a.name and s.next_run_at is not distinct from a.previous
    returning s.task_key, s.queue, s.name, s.payload, s.next_run_at
  ), inserted as (
    insert into pgconductor.executions (task_key, queue, event_name, payload, run_at, dedupe_key)
    select task_key, queue, name, payload, next_run_at, pgconductor.cron_dedupe_key(name, next_run_at)
    from moved where next_run_at < 'infinity'
    on conflict (task_key, queue, dedupe_key)
      where dedupe_key is not null and status in ('pending', 'running')
      do nothing
    returning 1
  )
  select count(*), min(next_run_at) filter (where next_run_at < 'infinity')
  into v_moved, v_earliest from moved;
  if v_earliest is not null then
    perform pgconductor.notify_schedule(v_earliest);
  end if;
  return v_moved;
end $$;

-- ctx.schedule / conductor.schedule: creates or replaces a dynamic schedule and materialises its
-- first fire (p_first, computed by the caller). Scheduling again with the same cron, time zone,
-- queue and payload keeps the pending run. Returns the fire time of the pending run.
create function pgconductor.schedule(
  p_task_key text, p_queue text, p_name text, p_cron text, p_tz text, p_payload jsonb, p_first timestamptz
) returns timestamptz
language plpgsql as $$
declare
  v pgconductor.schedules;
begin
  insert into pgconductor.schedules (task_key, queue, name, cron, tz, payload, dynamic)
  values (p_task_key, p_queue, p_name, p_cron, p_tz, p_payload, true)
  on conflict (task_key, name) do nothing;
  select * into v from pgconductor.schedules where task_key = p_task_key and name = p_name for update;
  if not v.dynamic then
    raise exception 'schedule "%" of task "%" is a { cron, name } trigger of the task; use another name (or change the trigger in createTask)',
      p_name, p_task_key using errcode = '22023';
  end if;
  if v.next_run_at is not null and v.cron = p_cron and v.tz = p_tz and v.queue = p_queue
     and v.payload is not distinct from p_payload then
    return v.next_run_at;
  end if;
  perform pgconductor.cancel_unstarted_fires(p_task_key, v.queue, p_name, 'schedule replaced');
  update pgconductor.schedules
  set queue = p_queue, cron = p_cron, tz = p_tz, payload = p_payload, next_run_at = p_first, updated_at = now()
  where task_key = p_task_key and name = p_name;
  insert into pgconductor.executions (task_key, queue, event_name, payload, run_at, dedupe_key)
  values (p_task_key, p_queue, p_name, p_payload, p_first, pgconductor.cron_dedupe_key(p_name, p_first))
  on conflict (task_key, queue, dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running')
    do nothing;
  perform pgconductor.notify_schedule(p_first);
  return p_first;
end $$;

-- ctx.unschedule / conductor.unschedule: removes a dynamic schedule and cancels its run that has not
-- started. False when there is no such schedule.
create function pgconductor.unschedule(p_task_key text, p_name text) returns boolean
language plpgsql as $$
declare
  v pgconductor.schedules;
begin
  select * into v from pgconductor.schedules where task_key = p_task_key and name = p_name for update;
  if not found then
    return false;
  end if;
  if not v.dynamic then
    raise exception 'schedule "%" of task "%" is a { cron, name } trigger of the task: remove the trigger in createTask instead',
      p_name, p_task_key using errcode = '22023';
  end if;
  perform pgconductor.cancel_unstarted_fires(p_task_key, v.queue, p_name, 'unscheduled');
  delete from pgconductor.schedules where task_key = p_task_key and name = p_name;
  return true;
end $$;

-- Custom events. Subscriptions ({ event, fields? } triggers) are written by the orchestrators
-- running the tasks, so a process that only emits needs no task definitions.
create table pgconductor.event_subscriptions (
  event_name text not null,
  task_key text not null,
  queue text not null,
  -- Payload keys kept (null: the whole payload).
  fields text[],
  updated_at timestamptz not null default now(),
  primary key (event_name, task_key)
);

create table pgconductor.events (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  payload jsonb,
  created_at timestamptz not null default now()
);

-- An orchestrator's subscriptions, at start: those of the tasks it runs are replaced by these.
create function pgconductor.sync_event_subscriptions(
  p_task_keys text[], p_events text[], p_keys text[], p_queues text[], p_fields text[]
) returns void
language plpgsql as $$
begin
  delete from pgconductor.event_subscriptions s
  where s.task_key = any (p_task_keys)
    and not exists (
      select 1 from unnest(p_events, p_keys) as w(event_name, task_key)
      where w.event_name = s.event_name and w.task_key = s.task_key);
  insert into pgconductor.event_subscriptions as s (event_name, task_key, queue, fields)
  select w.event_name, w.task_key, w.queue, case when w.fields is null then null else string_to_array(w.fields, ',') end
  from unnest(p_events, p_keys, p_queues, p_fields) as w(event_name, task_key, queue, fields)
  on conflict (event_name, task_key) do update set queue = excluded.queue, fields = excluded.fields, updated_at = now()
  where s.queue is distinct from excluded.queue or s.fields is distinct from excluded.fields;
end $$;

-- The payload restricted to `fields` (an object's keys; anything else is kept whole).
create function pgconductor.select_fields(p_payload jsonb, p_fields text[]) returns jsonb
language sql immutable as $$
  select case
    when p_fields is null or jsonb_typeof(p_payload) is distinct from 'object' then p_payload
    else coalesce((select jsonb_object_agg(key, value) from jsonb_each(p_payload) where key = any (p_fields)), '{}'::jsonb)
  end;
$$;

-- emit: the event row and one execution per subscribed task, in one statement. The emitting
-- process may add subscriptions it knows locally (tasks it created but whose orchestrator has not
-- started yet); the stored subscription wins for a task in both.
create function pgconductor.emit(
  p_name text, p_payload jsonb, p_local_keys text[] default '{}', p_local_queues text[] default '{}',
  p_local_fields text[] default '{}'
) returns uuid
language sql as $$
  with event as (
    insert into pgconductor.events (name, payload) values (p_name, p_payload) returning id
  ), subscribers as (
    select s.task_key, s.queue, s.fields from pgconductor.event_subscriptions s where s.event_name = p_name
    union all
    select l.task_key, l.queue, case when l.fields is null then null else string_to_array(l.fields, ',') end
    from unnest(p_local_keys, p_local_queues, p_local_fields) as l(task_key, queue, fields)
    where not exists (
      select 1 from pgconductor.event_subscriptions s where s.event_name = p_name and s.task_key = l.task_key)
  ), created as (
    -- A data-modifying WITH runs to completion whether or not the final select reads it.
    insert into pgconductor.executions (task_key, queue, event_name, payload)
    select task_key, queue, p_name, pgconductor.select_fields(p_payload, fields) from subscribers
  )
  select id from event;
$$;
