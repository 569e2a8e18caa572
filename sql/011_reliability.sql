-- Reliability: claims whose reply was lost.
--
-- A claim can commit while its reply never reaches the orchestrator (the connection is cut after
-- the commit). Its rows are then `running`, locked by an orchestrator that is alive, heartbeats,
-- and does not run them; recover_expired never frees them, because their holder's lease is fine.
-- So each heartbeat now names the executions the orchestrator holds (claimed and not yet written
-- back), and the rows it is locking but does not name go back to the queue, their attempt not
-- counted (they never ran), once they were claimed both
--  - more than p_grace_ms ago (the lease: a claim's reply arrives long before), and
--  - before this orchestrator's previous heartbeat, whose reply was in hand when the list of held
--    ids was taken: a claim that committed before it and was answered is in the list if it is held,
--    even when this statement itself ran late (queued behind a reconnect).
-- A null p_held releases nothing (a caller that cannot tell what it holds). The one-argument
-- heartbeat stays for orchestrators of an older version.
create function pgconductor.heartbeat(p_id uuid, p_held uuid[], p_grace_ms bigint)
returns table (stop_requested boolean, cancelled_ids uuid[], released_count integer)
language plpgsql as $$
declare
  v_previous timestamptz;
  v_stop boolean;
  v_unheld uuid[];
begin
  select o.last_heartbeat_at into v_previous from pgconductor.orchestrators o where o.id = p_id for update;
  update pgconductor.orchestrators o set last_heartbeat_at = now() where o.id = p_id
  returning o.stop_requested into v_stop;
  if v_previous is not null and p_held is not null then
    select array_agg(e.id) into v_unheld from (
      select e.id from pgconductor.executions e
      where e.locked_by = p_id and e.status = 'running'
        and e.locked_at < least(v_previous, now() - make_interval(secs => p_grace_ms / 1000.0))
        and e.id <> all (p_held)
      for update skip locked
    ) e;
    if v_unheld is not null then
      perform pgconductor.release(v_unheld);
    end if;
  end if;
  return query select coalesce(v_stop, true),
    (select array_agg(e.id) from pgconductor.executions e
     where e.locked_by = p_id and e.status = 'running' and e.cancel_requested),
    coalesce(cardinality(v_unheld), 0);
end $$;

-- Timer precision (ctx.sleep, retries, run_at): the payload's epoch milliseconds are rounded UP for
-- work due later, so a timer armed from it never fires before the row is due (run_at has
-- microseconds; rounding down made the worker claim a hair early, find nothing, and wait for the
-- sweep). Work already due when the statement ran keeps rounding down: it is claimed at once.
create or replace function pgconductor.notify_work(p_queue text, p_run_at timestamptz)
returns void language sql as $$
  select pg_notify('pgconductor_work', p_queue || '|' || (
    case when p_run_at <= now() then floor(extract(epoch from p_run_at) * 1000)
         else ceil(extract(epoch from p_run_at) * 1000) end)::bigint);
$$;
