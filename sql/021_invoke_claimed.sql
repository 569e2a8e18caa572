-- The local fast path (Orchestrator option localDispatch): an invoke whose queue has an idle worker
-- in the invoking process inserts the execution already claimed by that orchestrator (status
-- 'running', attempts 1), so it starts one commit after the call instead of after a NOTIFY and a
-- claim. Such a row must be announced as started too; the statement trigger already announced
-- 'created', and it still sends no work notification for it (nobody else may claim it).
create or replace function pgconductor.notify_inserted() returns trigger
language plpgsql as $$
declare
  v_started uuid[];
  v_attempts integer[];
begin
  perform pgconductor.notify_work(queue, min(run_at))
  from inserted where status = 'pending' and run_at < 'infinity' group by queue;
  -- Checked first so that a bulk invoke does not collect its ids when nobody observes.
  if pgconductor.observed() then
    -- attempt 0 in the created event, also for a row written already claimed (attempts 1)
    perform pgconductor.announce('created', array_agg(id), array_agg(0)) from inserted;
    select array_agg(id), array_agg(attempts) into v_started, v_attempts from inserted where status = 'running';
    perform pgconductor.announce('started', v_started, v_attempts);
  end if;
  return null;
end $$;
