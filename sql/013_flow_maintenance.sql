-- Maintenance keeps the rate-limit log small: run_maintenance also deletes rate_starts rows older than
-- their task's period (a day for tasks without a rate limit any more). Body otherwise as in 005.

-- Removes finished executions past their task's retention (tasks without settings use the defaults
-- of the tasks table), orphaned steps, expired gates, dead orchestrators
-- and rate-limit starts that left their window. Deletes in chunks so no
-- statement holds many row locks for long. Returns counts by kind.
create or replace function pgconductor.run_maintenance(p_lease_ms bigint, p_now timestamptz default now())
returns jsonb language plpgsql as $$
declare
  v_completed bigint := 0;
  v_failed bigint := 0;
  v_n bigint;
  v_steps bigint;
  v_gates bigint;
  v_orchestrators bigint;
  v_events bigint;
  v_rate_starts bigint;
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
  -- Rate-limit starts that left their window. A claim trims only the bucket it looks at, so buckets
  -- of keys that stopped getting work (and of tasks whose limit was removed) would stay forever.
  delete from pgconductor.rate_starts s
  where s.started_at <= p_now - coalesce(
    (select make_interval(secs => t.rate_period_seconds) from pgconductor.tasks t
     where t.key = s.task_key and t.rate_period_seconds is not null),
    interval '1 day');
  get diagnostics v_rate_starts = row_count;
  perform pgconductor.recover_expired(p_lease_ms);

  insert into pgconductor.maintenance_runs (last_run_at) values (p_now)
  on conflict (id) do update set last_run_at = excluded.last_run_at;

  return jsonb_build_object('completed', v_completed, 'failed', v_failed, 'steps', v_steps,
    'gates', v_gates, 'orchestrators', v_orchestrators, 'events', v_events, 'rateStarts', v_rate_starts);
end $$;
