-- Observability: execution events pushed to observing processes, and retrying a failed execution.

-- Processes that observe executions (conductor.observe, result, the `watch` command). Each keeps
-- its row fresh while it listens; a row not refreshed for 90 s belongs to a dead process and is
-- ignored. While no fresh row exists, the transitions send no event at all.
create table pgconductor.observers (
  id uuid primary key,
  hostname text,
  pid integer,
  seen_at timestamptz not null default now()
);

-- One NOTIFY on `pgconductor_events` per statement (more only past the payload cap): a JSON array
-- of events in the order of p_ids. An event carries kind, id, task, queue, attempt, at (epoch ms),
-- and, when small enough, the error or result; otherwise `more: true` tells observers to read the
-- row. kind 'fail' becomes 'failed' or 'retrying' from the row's new status, 'retry' 'retrying'.
-- p_attempts overrides the row's attempt count (claim calls this inside its own statement).
-- Cheap enough to call before building anything to announce.
create or replace function pgconductor.observed() returns boolean language sql stable as $$
  select exists (select 1 from pgconductor.observers where seen_at > now() - interval '90 seconds');
$$;

create or replace function pgconductor.announce(p_kind text, p_ids uuid[], p_attempts integer[] default null)
returns void language plpgsql as $$
declare
  v_chunk text;
begin
  if coalesce(cardinality(p_ids), 0) = 0
     or not pgconductor.observed() then
    return;
  end if;
  for v_chunk in
    with events as (
      select x.ord, jsonb_strip_nulls(jsonb_build_object(
        'kind', case p_kind
                  when 'fail' then case e.status when 'failed' then 'failed' else 'retrying' end
                  when 'retry' then 'retrying'
                  else p_kind end,
        'id', e.id, 'task', e.task_key, 'queue', e.queue,
        'attempt', coalesce(x.attempt, e.attempts),
        'at', floor(extract(epoch from now()) * 1000)::bigint,
        'error', case when p_kind in ('fail', 'retry') then e.last_error
                      when p_kind = 'cancelled' then coalesce(e.cancel_reason, 'cancelled') end,
        'result', case when p_kind = 'completed' then coalesce(e.result, 'null'::jsonb) end
      ))::text as event, e.id, e.attempts
      from unnest(p_ids, p_attempts) with ordinality as x(id, attempt, ord)
      join pgconductor.executions e on e.id = x.id
    ), capped as (
      -- an event too big for its share of a payload goes out bare: observers read the row
      select ord, case when octet_length(event) <= 3500 then event
        else jsonb_build_object('kind', event::jsonb ->> 'kind', 'id', id, 'attempt', (event::jsonb ->> 'attempt')::int,
                                'at', (event::jsonb ->> 'at')::bigint, 'more', true)::text end as event
      from events
    ), placed as (
      select ord, event, sum(octet_length(event) + 1) over (order by ord) as upto from capped
    )
    select string_agg(event, ',' order by ord) from placed group by upto / 4000 order by upto / 4000
  loop
    perform pg_notify('pgconductor_events', '[' || v_chunk || ']');
  end loop;
end $$;

create function pgconductor.touch_observer(p_id uuid, p_hostname text, p_pid integer) returns void
language sql as $$
  insert into pgconductor.observers (id, hostname, pid) values (p_id, p_hostname, p_pid)
  on conflict (id) do update set seen_at = now();
  delete from pgconductor.observers where seen_at < now() - interval '1 hour';
$$;

-- A failed execution runs again with a fresh set of attempts; its completed steps are kept, so
-- it resumes after the last step that succeeded. Returns the execution's status before the call
-- (null when it does not exist); only 'failed' was changed.
create function pgconductor.retry(p_id uuid) returns text
language plpgsql as $$
declare
  v_status text;
  v_queue text;
begin
  select status, queue into v_status, v_queue from pgconductor.executions where id = p_id for update;
  if v_status is distinct from 'failed' then
    return v_status;
  end if;
  update pgconductor.executions
  set status = 'pending', run_at = now(), attempts = 0, finished_at = null,
      cancel_requested = false, cancel_reason = null
  where id = p_id;
  perform pgconductor.notify_work(v_queue, now());
  perform pgconductor.announce('retry', array[p_id]);
  return v_status;
end $$;
