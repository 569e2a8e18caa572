-- The heartbeat names the executions the orchestrator holds, taken when the beat was prepared; the
-- statement can reach the server much later (it waits for a free connection of a busy pool, or a
-- reconnect). A claim answered in between is held but not named, and once it is older than the grace
-- the 011 heartbeat released it while it ran: another claim ran it again. The snapshot's time
-- (p_held_at, on the database's clock as the orchestrator measures it; never later than now())
-- bounds the release instead: only rows claimed the grace before the snapshot can be unheld.
-- The three-argument form stays for orchestrators of older releases, as a call of this one.
create function pgconductor.heartbeat(p_id uuid, p_held uuid[], p_grace_ms bigint, p_held_at timestamptz)
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
        and e.locked_at < least(v_previous, least(coalesce(p_held_at, now()), now()) - make_interval(secs => p_grace_ms / 1000.0))
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

-- The 011 form, for older releases: the same beat with the snapshot taken as the statement runs.
create or replace function pgconductor.heartbeat(p_id uuid, p_held uuid[], p_grace_ms bigint)
returns table (stop_requested boolean, cancelled_ids uuid[], released_count integer)
language sql as $$
  select * from pgconductor.heartbeat(p_id, p_held, p_grace_ms, null::timestamptz);
$$;
