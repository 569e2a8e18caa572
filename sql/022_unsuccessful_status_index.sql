-- Of the five indexes a completion writes into (019), the one by (status, created_at, id) over every
-- finished row was there for lists and counts by status. Completed rows are nearly all of the
-- finished part, so a list of completed ones reads the newest-first index of finished rows and keeps
-- what matches; failed and cancelled ones, the few an operator looks for, keep an index of their own
-- that a completion no longer writes. One index entry fewer per completed execution. On a large table
-- this builds the new index inside the migration's transaction (a lock on pgconductor.executions meanwhile).
drop index pgconductor.executions_finished_status_created_idx;
create index executions_unsuccessful_status_created_idx on pgconductor.executions (status, created_at, id)
  where status in ('failed', 'cancelled');
