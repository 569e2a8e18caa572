-- The claim's plan follows the planner's row estimate for pgconductor.executions. When the table was
-- emptied and then vacuumed (or an index was built on it while empty), pg_class.reltuples is 0 while
-- pages remain, and the planner estimates no rows until autovacuum next analyzes it (a minute or more
-- under load). A burst of work in that window gets plans made for an empty table: the claim then reads
-- every unfinished row's index entry and sorts them on every call instead of walking the claim index
-- under its LIMIT (85 ms instead of ~2 ms to claim 400 of 5,000 on PostgreSQL 15, measured). Each
-- orchestrator asks this function every few seconds; it analyzes the table when the estimate is
-- below half of what is unfinished (counted up to twice the threshold) and no other session is
-- already doing so (7114650007). ANALYZE needs the table's owner (or MAINTAIN on PostgreSQL 17+):
-- for another role PostgreSQL skips it with a warning, and the function reports analyzed = false.
-- set_config(..., true) lasts until the end of the caller's transaction: a single statement here.
create function pgconductor.refresh_stale_stats(p_min_unfinished integer default 1000)
returns table (estimate real, unfinished bigint, analyzed boolean)
language plpgsql as $$
declare
  v_before real;
begin
  select c.reltuples into estimate from pg_class c where c.oid = 'pgconductor.executions'::regclass;
  select count(*) into unfinished from (
    select 1 from pgconductor.executions e where e.status in ('pending', 'running') limit 2 * p_min_unfinished
  ) u;
  analyzed := false;
  if unfinished >= p_min_unfinished and estimate < unfinished / 2 and pg_try_advisory_xact_lock(7114650007) then
    v_before := estimate;
    -- Autovacuum may hold the table's lock for a long while: then it analyzes, and we skip.
    perform set_config('lock_timeout', '200ms', true);
    begin
      analyze pgconductor.executions;
    exception when lock_not_available then
      return next;
      return;
    end;
    select c.reltuples into estimate from pg_class c where c.oid = 'pgconductor.executions'::regclass;
    analyzed := estimate is distinct from v_before;
  end if;
  return next;
end $$;
