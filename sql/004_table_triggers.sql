-- Table-change triggers: fed by a logical replication slot, not by triggers on the user's tables.

-- Every table trigger of every task, written by the orchestrators that run the task. The replication
-- consumer (whichever orchestrator won the election) matches changes against all of them, so a task
-- gets its executions even when the consumer itself does not run it.
create table pgconductor.table_triggers (
  task_key text not null,
  queue text not null,
  position integer not null,
  schema_name text not null,
  table_name text not null,
  operation text not null check (operation in ('insert', 'update', 'delete')),
  columns text[] not null,
  when_condition text,
  updated_at timestamptz not null default now(),
  primary key (task_key, position)
);

-- Replay safety. The slot is acknowledged only after the executions of a change commit, so a crash
-- between that commit and the acknowledgement replays the change. The dedupe index of executions only
-- covers unfinished rows (and retention may delete finished ones), so it cannot tell a replay from a
-- new change. Instead each batch moves this watermark (the end LSN of the last transaction it holds)
-- in the same transaction as its executions, and changes of transactions at or below it are skipped.
create table pgconductor.table_change_progress (
  slot_name text primary key,
  confirmed_lsn pg_lsn not null
);

-- The executions of a burst of decoded transactions in one statement, plus the watermark.
-- Arrays are parallel, one element per execution; p_commit_ends is the end LSN of its transaction.
create function pgconductor.record_table_changes(
  p_slot text, p_upto pg_lsn, p_commit_ends pg_lsn[], p_task_keys text[], p_queues text[],
  p_payloads jsonb[], p_dedupe_keys text[], p_event_names text[]
) returns integer
language plpgsql as $$
declare
  v_done pg_lsn;
  v_count integer;
begin
  -- The row lock also serialises two consumers should the election ever overlap.
  select confirmed_lsn into v_done from pgconductor.table_change_progress
  where slot_name = p_slot for update;
  if not found then
    insert into pgconductor.table_change_progress (slot_name, confirmed_lsn) values (p_slot, '0/0')
    on conflict (slot_name) do nothing;
    select confirmed_lsn into v_done from pgconductor.table_change_progress
    where slot_name = p_slot for update;
  end if;

  insert into pgconductor.executions (task_key, queue, payload, dedupe_key, event_name)
  select t.task_key, t.queue, t.payload, t.dedupe_key, t.event_name
  from unnest(p_commit_ends, p_task_keys, p_queues, p_payloads, p_dedupe_keys, p_event_names)
       as t(commit_end, task_key, queue, payload, dedupe_key, event_name)
  where t.commit_end > v_done
  on conflict (task_key, queue, dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running')
    do nothing;
  get diagnostics v_count = row_count;

  update pgconductor.table_change_progress set confirmed_lsn = greatest(confirmed_lsn, p_upto)
  where slot_name = p_slot;
  return v_count;
end $$;

-- Replaces the table triggers of some tasks and reshapes the publications to match the whole set.
-- There is one publication per operation, so a table is published only for the operations some
-- trigger needs: publishing updates or deletes of a table without a replica identity would make the
-- user's own UPDATE/DELETE on it fail. Tables with update or delete triggers get REPLICA IDENTITY FULL
-- (old values are part of the payload); the tables switched here are returned so the caller can log them.
create function pgconductor.sync_table_triggers(p_task_keys text[], p_triggers jsonb)
returns table (schema_name text, table_name text)
language plpgsql as $$
declare
  r record;
  op text;
  pub text;
begin
  perform pg_advisory_xact_lock(7114650004);
  delete from pgconductor.table_triggers t where t.task_key = any (p_task_keys);
  insert into pgconductor.table_triggers
    (task_key, queue, position, schema_name, table_name, operation, columns, when_condition)
  select n.task_key, n.queue, n.position, n.schema_name, n.table_name, n.operation, n.columns, n.when_condition
  from jsonb_to_recordset(p_triggers) as n(task_key text, queue text, position integer, schema_name text,
    table_name text, operation text, columns text[], when_condition text);
  perform pg_notify('pgconductor_table_triggers', '');
  if not exists (select 1 from pgconductor.table_triggers) then
    return;
  end if;

  foreach op in array array['insert', 'update', 'delete'] loop
    pub := 'pgconductor_' || op;
    if not exists (select 1 from pg_publication p where p.pubname = pub) then
      -- A partitioned table's changes are published under its own name, not its partitions'.
      execute format('create publication %I with (publish = %L, publish_via_partition_root = true)', pub, op);
    end if;
    for r in
      select distinct t.schema_name as s, t.table_name as n from pgconductor.table_triggers t where t.operation = op
      except
      select pt.schemaname, pt.tablename from pg_publication_tables pt where pt.pubname = pub
    loop
      execute format('alter publication %I add table %I.%I', pub, r.s, r.n);
    end loop;
    for r in
      select pt.schemaname as s, pt.tablename as n from pg_publication_tables pt where pt.pubname = pub
      except
      select t.schema_name, t.table_name from pgconductor.table_triggers t where t.operation = op
    loop
      execute format('alter publication %I drop table %I.%I', pub, r.s, r.n);
    end loop;
  end loop;

  for r in
    select distinct t.schema_name as s, t.table_name as n
    from pgconductor.table_triggers t
    join pg_namespace ns on ns.nspname = t.schema_name
    join pg_class c on c.relnamespace = ns.oid and c.relname = t.table_name
    where t.operation in ('update', 'delete') and c.relreplident <> 'f'
  loop
    execute format('alter table %I.%I replica identity full', r.s, r.n);
    schema_name := r.s;
    table_name := r.n;
    return next;
  end loop;
end $$;
