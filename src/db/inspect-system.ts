/**
 * Reads for the overview of a database: queues (counts, oldest pending, throughput per minute),
 * cron schedules, table triggers and replication slots, orchestrators. Completed executions are
 * counted only inside the throughput window (through executions_finished_idx): counting all of them
 * would read every row of a large table.
 */
import type { Db } from "./db";

export interface QueueCountRow {
  queue: string;
  status: "pending" | "running" | "failed" | "cancelled";
  runnable: number;
  count: number;
  oldest_due: Date | null;
}

/** Unfinished and failed/cancelled rows are counted apart: each part has its own indexes (sql/019). */
export async function readQueueCounts(db: Db): Promise<QueueCountRow[]> {
  return db<QueueCountRow[]>`
    select * from (
      select queue, status,
        count(*) filter (where status <> 'pending' or run_at <= now())::int as runnable,
        count(*)::int as count,
        min(run_at) filter (where status = 'pending' and run_at <= now()) as oldest_due
      from pgconductor.executions where status in ('pending', 'running')
      group by queue, status
      union all
      select queue, status, count(*)::int as runnable, count(*)::int as count, null::timestamptz as oldest_due
      from pgconductor.executions where status in ('failed', 'cancelled')
      group by queue, status
    ) counts order by queue, status`;
}

export interface ThroughputRow {
  queue: string;
  minute: Date;
  completed: number;
  failed: number;
  cancelled: number;
}

/** Finished executions per queue and minute over the last `minutes` minutes (database time). */
export async function readThroughput(db: Db, minutes: number): Promise<{ rows: ThroughputRow[]; now: Date }> {
  const rows = await db<(ThroughputRow & { now: Date })[]>`
    select queue, date_trunc('minute', finished_at) as minute,
      count(*) filter (where status = 'completed')::int as completed,
      count(*) filter (where status = 'failed')::int as failed,
      count(*) filter (where status = 'cancelled')::int as cancelled,
      now() as now
    from pgconductor.executions
    where status in ('completed', 'failed', 'cancelled')
      and finished_at >= date_trunc('minute', now()) - make_interval(mins => ${minutes - 1})
    group by queue, minute order by minute, queue`;
  const [clock] = rows.length > 0 ? [{ now: rows[0].now }] : await db<{ now: Date }[]>`select now() as now`;
  return { rows: rows.map(({ now: _now, ...row }) => row), now: clock.now };
}

export interface ScheduleRow {
  task_key: string;
  name: string;
  queue: string;
  cron: string;
  tz: string;
  dynamic: boolean;
  next_run_at: Date | null;
}

export async function readSchedules(db: Db): Promise<ScheduleRow[]> {
  return db<ScheduleRow[]>`
    select task_key, name, queue, cron, tz, dynamic, next_run_at from pgconductor.schedules
    order by next_run_at nulls last, task_key, name`;
}

export interface TableTriggerRow {
  task_key: string;
  queue: string;
  schema_name: string;
  table_name: string;
  operation: string;
  columns: string[];
  when_condition: string | null;
}

export async function readTableTriggers(db: Db): Promise<TableTriggerRow[]> {
  return db<TableTriggerRow[]>`
    select task_key, queue, schema_name, table_name, operation, columns, when_condition
    from pgconductor.table_triggers order by schema_name, table_name, operation, task_key, position`;
}

export interface SlotRow {
  slot_name: string;
  active: boolean;
  lag_bytes: number | null;
}

/** This database's pgconductor replication slots; lag = WAL written since the slot's confirmed position. */
export async function readSlots(db: Db): Promise<SlotRow[]> {
  return db<SlotRow[]>`
    select slot_name, active,
      pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn))::float8 as lag_bytes
    from pg_replication_slots
    where slot_name like 'pgconductor%' and database = current_database()
    order by slot_name`;
}

export interface OrchestratorRow {
  id: string;
  hostname: string;
  pid: number;
  schema_version: number;
  started_at: Date;
  heartbeat_age_seconds: number;
  stop_requested: boolean;
  /** Running executions it holds, by queue (its workers at work). */
  running: Record<string, number>;
}

export async function readOrchestrators(db: Db): Promise<OrchestratorRow[]> {
  return db<OrchestratorRow[]>`
    select o.id, o.hostname, o.pid, o.schema_version, o.started_at,
      extract(epoch from now() - o.last_heartbeat_at)::float8 as heartbeat_age_seconds, o.stop_requested,
      coalesce((select jsonb_object_agg(r.queue, r.n) from (
        select e.queue, count(*)::int as n from pgconductor.executions e
        where e.locked_by = o.id and e.status = 'running' group by e.queue) r), '{}'::jsonb) as running
    from pgconductor.orchestrators o order by o.started_at, o.id`;
}

/** Task names and queues known to the database, for filter menus. */
export async function readTaskNames(db: Db): Promise<{ key: string; queue: string }[]> {
  return db<{ key: string; queue: string }[]>`select key, queue from pgconductor.tasks order by key`;
}

/** Whether this database has the schema at a version with the operations migration (008). */
export async function isSchemaInstalled(db: Db): Promise<boolean> {
  const [row] = await db<{ installed: boolean }[]>`
    select to_regclass('pgconductor.executions') is not null
      and exists (select from pg_attribute where attrelid = to_regclass('pgconductor.executions')
                  and attname = 'trace_context' and not attisdropped) as installed`;
  return row.installed;
}
