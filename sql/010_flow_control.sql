-- Flow control: per-key concurrency, rate limits, pausing, retry delays, debounce with a maximum.
-- Limited tasks are claimed through claim_limited (below); the plain claim is not touched.

-- The key an execution's per-key limits count it under (invoke option concurrency_key). Null for
-- every execution of an unkeyed task, so the indexes below hold only keyed work.
alter table pgconductor.executions add column concurrency_key text;

-- A keyed task's due work, one key after another: the claim visits keys through this index (a skip
-- scan, one probe per key) and takes each key's best rows from it, never walking a hot key's backlog.
create index executions_keyed_pending_idx on pgconductor.executions
  (task_key, concurrency_key, priority desc, run_at, id)
  where status = 'pending' and concurrency_key is not null;

-- Round-robin position of each keyed task: the last key a claim served. The next claim starts
-- after it, so every key with due work is visited before any key gets a second turn.
create table pgconductor.key_cursors (
  task_key text primary key,
  last_key text not null
);

-- Sliding log of starts of rate-limited tasks, per task and key ('' for a task-wide limit). Written
-- under the task's claim lock with clock_timestamp(); entries older than the period are removed by
-- the next claim of the bucket (and by maintenance).
create table pgconductor.rate_starts (
  task_key text not null,
  key text not null,
  started_at timestamptz not null
);
create index rate_starts_bucket_idx on pgconductor.rate_starts (task_key, key, started_at);

-- Paused queues and tasks. Persisted, so a pause holds across restarts; claim_limited checks it in
-- the claim statement, workers keep a copy (pgconductor_pause notifications) for the plain claim.
create table pgconductor.pauses (
  kind text not null check (kind in ('queue', 'task')),
  name text not null,
  paused_at timestamptz not null default now(),
  primary key (kind, name)
);

-- The settings of flow control, recorded at orchestrator start (the claim takes them from the worker).
alter table pgconductor.tasks
  add column key_concurrency integer check (key_concurrency is null or key_concurrency > 0),
  add column rate_limit integer check (rate_limit is null or rate_limit > 0),
  add column rate_period_seconds double precision check (rate_period_seconds is null or rate_period_seconds > 0),
  add column rate_per_key boolean not null default false,
  add column timeout_ms integer;

create function pgconductor.configure_flow(
  p_keys text[], p_key_concurrency integer[], p_rate_limits integer[], p_rate_periods double precision[],
  p_rate_per_key boolean[], p_timeouts integer[]
) returns void language sql as $$
  update pgconductor.tasks t set
    key_concurrency = s.key_concurrency, rate_limit = s.rate_limit, rate_period_seconds = s.rate_period,
    rate_per_key = coalesce(s.per_key, false), timeout_ms = s.timeout_ms, updated_at = now()
  from unnest(p_keys, p_key_concurrency, p_rate_limits, p_rate_periods, p_rate_per_key, p_timeouts)
       as s(key, key_concurrency, rate_limit, rate_period, per_key, timeout_ms)
  where t.key = s.key;
$$;

-- Whether a task may be claimed now as far as pauses go.
create function pgconductor.is_paused(p_queue text, p_task_key text) returns boolean
language sql stable as $$
  select exists (select 1 from pgconductor.pauses p
                 where (p.kind = 'queue' and p.name = p_queue) or (p.kind = 'task' and p.name = p_task_key));
$$;

-- The hook for any claim: these task keys minus the paused ones (nothing when the queue is paused).
create function pgconductor.unpaused_task_keys(p_queue text, p_task_keys text[]) returns text[]
language sql stable as $$
  select coalesce(array_agg(k), '{}') from unnest(p_task_keys) as k
  where not pgconductor.is_paused(p_queue, k);
$$;

-- Pause or resume a queue or task. Both tell every worker (pgconductor_pause: 'pause|queue|name');
-- a resume also wakes the workers of the queues concerned so waiting work starts at once.
-- Returns whether anything changed.
create function pgconductor.set_paused(p_kind text, p_name text, p_paused boolean) returns boolean
language plpgsql as $$
declare
  v_changed integer;
  r record;
begin
  if p_paused then
    insert into pgconductor.pauses (kind, name) values (p_kind, p_name) on conflict do nothing;
  else
    delete from pgconductor.pauses where kind = p_kind and name = p_name;
  end if;
  get diagnostics v_changed = row_count;
  perform pg_notify('pgconductor_pause', case when p_paused then 'pause' else 'resume' end || '|' || p_kind || '|' || p_name);
  if not p_paused then
    for r in
      select p_name as queue where p_kind = 'queue'
      union
      select t.queue from pgconductor.tasks t where p_kind = 'task' and t.key = p_name
      union
      -- a task no orchestrator registered yet: the queues its waiting work is in
      select distinct e.queue from pgconductor.executions e
      where p_kind = 'task' and e.task_key = p_name and e.status = 'pending'
    loop
      perform pgconductor.notify_work(r.queue, now());
    end loop;
  end if;
  return v_changed > 0;
end $$;

-- Room left in a rate bucket at p_now (starts in the last p_period seconds against p_limit), and
-- when it next grows if it is full: the start that must leave the window, plus the period.
create function pgconductor.rate_room(
  p_task_key text, p_key text, p_limit integer, p_period double precision, p_now timestamptz,
  out room integer, out next_at timestamptz
) language plpgsql as $$
declare
  v_window timestamptz := p_now - make_interval(secs => p_period);
  v_used integer;
begin
  delete from pgconductor.rate_starts s
  where s.task_key = p_task_key and s.key = p_key and s.started_at <= v_window;
  select count(*) into v_used from pgconductor.rate_starts s
  where s.task_key = p_task_key and s.key = p_key;
  room := greatest(p_limit - v_used, 0);
  next_at := null;
  if room = 0 then
    select s.started_at + make_interval(secs => p_period) into next_at from pgconductor.rate_starts s
    where s.task_key = p_task_key and s.key = p_key
    order by s.started_at offset v_used - p_limit limit 1;
  end if;
end $$;

-- When a full bucket next has room: the start that must leave the window, plus the period.
create function pgconductor.rate_next_at(
  p_task_key text, p_key text, p_limit integer, p_period double precision
) returns timestamptz language sql as $$
  select s.started_at + make_interval(secs => p_period) from pgconductor.rate_starts s
  where s.task_key = p_task_key and s.key = p_key
  order by s.started_at
  offset greatest((select count(*) from pgconductor.rate_starts c where c.task_key = p_task_key and c.key = p_key) - p_limit, 0)
  limit 1;
$$;

-- Due rows of one task (of one key; or, with p_nokey, those without a key), best first, locked,
-- at most p_n. Three static queries rather than one with a CASE, so each keeps its own index.
-- `(queue = p_queue) is true` keeps the planner on the per-task indexes (see claim_with_limits).
create function pgconductor.pick_due(p_task_key text, p_queue text, p_key text, p_nokey boolean, p_n integer)
returns uuid[] language plpgsql as $$
declare
  v_ids uuid[];
begin
  if p_n <= 0 then
    return '{}';
  elsif p_key is not null then
    select array_agg(c.id) into v_ids from (
      select x.id from pgconductor.executions x
      where x.task_key = p_task_key and x.concurrency_key = p_key and (x.queue = p_queue) is true
        and x.status = 'pending' and x.run_at <= now()
      order by x.priority desc, x.run_at, x.id
      limit p_n for update skip locked) c;
  elsif p_nokey then
    select array_agg(c.id) into v_ids from (
      select x.id from pgconductor.executions x
      where x.task_key = p_task_key and x.concurrency_key is null and (x.queue = p_queue) is true
        and x.status = 'pending' and x.run_at <= now()
      order by x.priority desc, x.run_at, x.id
      limit p_n for update skip locked) c;
  else
    select array_agg(c.id) into v_ids from (
      select x.id from pgconductor.executions x
      where x.task_key = p_task_key and (x.queue = p_queue) is true
        and x.status = 'pending' and x.run_at <= now()
      order by x.priority desc, x.run_at, x.id
      limit p_n for update skip locked) c;
  end if;
  return coalesce(v_ids, '{}');
end $$;

-- Whether a task (or one of its keys) has due work not among p_taken.
create function pgconductor.has_due(p_task_key text, p_queue text, p_key text, p_taken uuid[]) returns boolean
language plpgsql as $$
begin
  if p_key is null then
    return exists (select 1 from pgconductor.executions x
                   where x.task_key = p_task_key and (x.queue = p_queue) is true and x.status = 'pending'
                     and x.run_at <= now() and not (x.id = any (p_taken)));
  end if;
  return exists (select 1 from pgconductor.executions x
                 where x.task_key = p_task_key and x.concurrency_key = p_key and (x.queue = p_queue) is true
                   and x.status = 'pending' and x.run_at <= now() and not (x.id = any (p_taken)));
end $$;

-- The first key after p_after (from the first when null) with pending work of the task: one probe
-- of executions_keyed_pending_idx (a skip scan done by hand).
create function pgconductor.next_key(p_task_key text, p_after text) returns text
language plpgsql as $$
declare
  v_key text;
begin
  if p_after is null then
    select x.concurrency_key into v_key from pgconductor.executions x
    where x.task_key = p_task_key and x.status = 'pending' and x.concurrency_key is not null
    order by x.concurrency_key limit 1;
  else
    select x.concurrency_key into v_key from pgconductor.executions x
    where x.task_key = p_task_key and x.status = 'pending' and x.concurrency_key > p_after
    order by x.concurrency_key limit 1;
  end if;
  return v_key;
end $$;

-- One keyed task's share of a claim: keys with due work are visited round-robin from the task's
-- cursor (a key gets at most its free slots and, with a per-key rate limit, its bucket's room);
-- rows without a key form one more group, visited after the keys. At most p_max_visits keys per
-- claim; the cursor carries on from there next time. The caller holds the task's claim lock.
create function pgconductor.pick_keyed(
  p_task_key text, p_queue text, p_free integer, p_key_limit integer,
  p_rate_limit integer, p_rate_period double precision, p_now timestamptz,
  out picked uuid[], out wake_at timestamptz
) language plpgsql as $$
declare
  v_running jsonb;
  v_start text;
  v_after text;
  v_key text;
  v_wrapped boolean := false;
  v_visits integer := 0;
  v_max_visits integer := greatest(64, p_free * 4);
  v_room integer;
  v_rate record;
  v_ids uuid[];
  v_served text;
begin
  picked := '{}';
  select coalesce(jsonb_object_agg(k, n), '{}') into v_running from (
    select coalesce(r.concurrency_key, '') || case when r.concurrency_key is null then '#none' else '' end as k,
           count(*) as n
    from pgconductor.executions r where r.status = 'running' and r.task_key = p_task_key group by 1) x;
  select c.last_key into v_start from pgconductor.key_cursors c where c.task_key = p_task_key;
  v_after := v_start;
  loop
    exit when cardinality(picked) >= p_free or v_visits >= v_max_visits;
    v_key := pgconductor.next_key(p_task_key, v_after);
    if v_key is null or (v_wrapped and v_start is not null and v_key > v_start) then
      exit when v_wrapped or v_start is null;
      v_wrapped := true;
      v_after := null;
      continue;
    end if;
    v_after := v_key;
    v_visits := v_visits + 1;
    v_room := p_free - cardinality(picked);
    if p_key_limit is not null then
      v_room := least(v_room, p_key_limit - coalesce((v_running ->> v_key)::integer, 0));
    end if;
    continue when v_room <= 0;
    if p_rate_limit is not null then
      select * into v_rate from pgconductor.rate_room(p_task_key, v_key, p_rate_limit, p_rate_period, p_now);
      if v_rate.room = 0 then
        if pgconductor.has_due(p_task_key, p_queue, v_key, '{}') then
          wake_at := least(wake_at, v_rate.next_at);
        end if;
        continue;
      end if;
      v_room := least(v_room, v_rate.room);
    end if;
    v_ids := pgconductor.pick_due(p_task_key, p_queue, v_key, false, v_room);
    continue when cardinality(v_ids) = 0;
    picked := picked || v_ids;
    v_served := v_key;
    if p_rate_limit is not null then
      insert into pgconductor.rate_starts (task_key, key, started_at)
      select p_task_key, v_key, p_now from unnest(v_ids);
      if v_rate.room = cardinality(v_ids) and pgconductor.has_due(p_task_key, p_queue, v_key, v_ids) then
        wake_at := least(wake_at, pgconductor.rate_next_at(p_task_key, v_key, p_rate_limit, p_rate_period));
      end if;
    end if;
  end loop;

  -- Work without a key (cron, events, children of a keyed task): one group of its own, key ''
  -- for a per-key rate limit.
  v_room := p_free - cardinality(picked);
  if p_key_limit is not null then
    v_room := least(v_room, p_key_limit - coalesce((v_running ->> '#none')::integer, 0));
  end if;
  if v_room > 0 and p_rate_limit is not null then
    select * into v_rate from pgconductor.rate_room(p_task_key, '', p_rate_limit, p_rate_period, p_now);
    v_room := least(v_room, v_rate.room);
  end if;
  if v_room > 0 then
    v_ids := pgconductor.pick_due(p_task_key, p_queue, null, true, v_room);
    picked := picked || v_ids;
    if p_rate_limit is not null and cardinality(v_ids) > 0 then
      insert into pgconductor.rate_starts (task_key, key, started_at)
      select p_task_key, '', p_now from unnest(v_ids);
    end if;
  end if;

  if v_served is not null then
    insert into pgconductor.key_cursors (task_key, last_key) values (p_task_key, v_served)
    on conflict (task_key) do update set last_key = excluded.last_key;
  end if;
end $$;

-- Claim for a worker some of whose tasks are limited (task concurrency, per-key concurrency, rate
-- limits; parallel arrays from the worker's settings, null where a task has no such limit).
-- Limited tasks go first, each within its limits; the rest of p_limit goes to p_task_keys (the
-- unlimited ones). Paused queues and tasks are not claimed. A transaction-scoped advisory lock per
-- task (as in claim_with_limits: class 7114650) makes counting and claiming atomic across every
-- orchestrator; a claimer that finds it taken skips the task this round. Over-limit work that is
-- due gets a work notification at the time its bucket next has room, so workers arm their timers.
create function pgconductor.claim_limited(
  p_orchestrator uuid, p_queue text, p_task_keys text[], p_limited_keys text[],
  p_concurrency integer[], p_key_concurrency integer[], p_rate_limits integer[],
  p_rate_periods double precision[], p_rate_per_key boolean[], p_limit integer
) returns table (
  id uuid, task_key text, queue text, event_name text, payload jsonb, attempts integer,
  steps jsonb, cancel_requested boolean
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
      e.cancel_requested;
  perform pgconductor.announce('started', v_ids);
end $$;

-- invoke with concurrency keys (rows of keyed tasks); otherwise as pgconductor.invoke.
create function pgconductor.invoke_keyed(
  p_task_keys text[], p_queues text[], p_payloads jsonb[], p_dedupe_keys text[],
  p_priorities integer[], p_run_ats timestamptz[], p_concurrency_keys text[]
) returns table (id uuid)
language sql as $$
  insert into pgconductor.executions as e
    (task_key, queue, payload, dedupe_key, priority, run_at, concurrency_key)
  select t.task_key, t.queue, t.payload, t.dedupe_key, coalesce(t.priority, 0),
         coalesce(t.run_at, now()), t.concurrency_key
  from unnest(p_task_keys, p_queues, p_payloads, p_dedupe_keys, p_priorities, p_run_ats, p_concurrency_keys)
       as t(task_key, queue, payload, dedupe_key, priority, run_at, concurrency_key)
  on conflict (task_key, queue, dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running')
    do update set dedupe_key = excluded.dedupe_key
  returning e.id;
$$;

-- Failed attempts with the delay before their next attempt chosen by the caller (the task's retry
-- policy or the error's retryAfterMs; null: the default backoff). fail() decides retry or give up;
-- the executions it put back to pending get their run_at from p_delays_ms.
create function pgconductor.fail_with_delays(
  p_ids uuid[], p_errors text[], p_final boolean[], p_delays_ms bigint[]
) returns void language plpgsql as $$
declare
  v_running uuid[];
  r record;
begin
  select array_agg(e.id) into v_running from pgconductor.executions e
  where e.id = any (p_ids) and e.status = 'running';
  perform pgconductor.fail(p_ids, p_errors, p_final);
  for r in
    with delayed as (
      update pgconductor.executions e set run_at = now() + make_interval(secs => d.ms / 1000.0)
      from unnest(p_ids, p_delays_ms) as d(id, ms)
      where e.id = d.id and d.ms is not null and e.id = any (v_running) and e.status = 'pending'
      returning e.queue, e.run_at
    )
    select queue, min(run_at) as run_at from delayed group by queue
  loop
    perform pgconductor.notify_work(r.queue, r.run_at);
  end loop;
end $$;

-- Debounce with a maximum delay: the gate remembers when its execution was first requested, and a
-- later call never pushes it past that plus max_seconds.
alter table pgconductor.invoke_gates add column max_until timestamptz;

drop function pgconductor.invoke_gated(text[], text[], jsonb[], text[], integer[], timestamptz[], text[], double precision[]);

-- Invoke through gates (see 005_execution_control.sql), now with debounce's maximum delay
-- (p_max_seconds, null: none) and the executions' concurrency keys.
create function pgconductor.invoke_gated(
  p_task_keys text[], p_queues text[], p_payloads jsonb[], p_keys text[], p_priorities integer[],
  p_run_ats timestamptz[], p_kinds text[], p_seconds double precision[],
  p_max_seconds double precision[] default null, p_concurrency_keys text[] default null
) returns table (id uuid)
language plpgsql as $$
declare
  i integer;
  v_key text;
  v_gate pgconductor.invoke_gates;
  v_id uuid;
  v_run_at timestamptz;
  v_queue text;
  v_max timestamptz;
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
        insert into pgconductor.executions (task_key, queue, payload, priority, run_at, concurrency_key)
        values (p_task_keys[i], p_queues[i], p_payloads[i], coalesce(p_priorities[i], 0), v_run_at, p_concurrency_keys[i])
        returning executions.id into v_id;
        update pgconductor.invoke_gates g
        set execution_id = v_id, window_until = v_run_at + make_interval(secs => p_seconds[i]), updated_at = now()
        where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = 'throttle';
      end if;
    else
      v_run_at := now() + make_interval(secs => p_seconds[i]);
      if v_gate.execution_id is not null then
        -- Still waiting to start: this call replaces its payload and pushes it back, but never
        -- past the first call's time plus max_seconds.
        v_run_at := least(v_run_at, coalesce(v_gate.max_until, 'infinity'));
        update pgconductor.executions e
        set payload = p_payloads[i], run_at = v_run_at, priority = coalesce(p_priorities[i], 0),
            concurrency_key = p_concurrency_keys[i]
        where e.id = v_gate.execution_id and e.status = 'pending' and e.attempts = 0
        returning e.id, e.queue into v_id, v_queue;
        if v_id is not null then
          perform pgconductor.notify_work(v_queue, v_run_at);
        end if;
      end if;
      if v_id is null then
        v_run_at := now() + make_interval(secs => p_seconds[i]);
        v_max := case when p_max_seconds[i] is null then null else now() + make_interval(secs => p_max_seconds[i]) end;
        insert into pgconductor.executions (task_key, queue, payload, priority, run_at, concurrency_key)
        values (p_task_keys[i], p_queues[i], p_payloads[i], coalesce(p_priorities[i], 0), v_run_at, p_concurrency_keys[i])
        returning executions.id into v_id;
        update pgconductor.invoke_gates g set max_until = v_max
        where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = 'debounce';
      end if;
      update pgconductor.invoke_gates g
      set execution_id = v_id, window_until = v_run_at, updated_at = now()
      where g.task_key = p_task_keys[i] and g.queue = p_queues[i] and g.key = v_key and g.kind = 'debounce';
    end if;
    id := v_id;
    return next;
  end loop;
end $$;
