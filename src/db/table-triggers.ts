/**
 * The statements behind table triggers: the recorded triggers, the catalog checks, the publications
 * (reshaped by pgconductor.sync_table_triggers, sql/004_table_triggers.sql), the replication slot and
 * the watermark. Each one says nothing when it finds nothing to do: a `drop ... if exists` that skips
 * would send a NOTICE to every client, including a user's own postgres.js pool.
 */
import { TABLE_TRIGGERS_LOCK } from "../model/locks";
import type { Sql } from "postgres";

/** Publications, one per operation, so a table is published only for what its triggers need. */
export const PUBLICATIONS = ["pgconductor_insert", "pgconductor_update", "pgconductor_delete"] as const;

/** A table trigger as recorded in pgconductor.table_triggers. */
export interface RecordedTableTrigger {
  taskKey: string;
  queue: string;
  position: number;
  schema: string;
  table: string;
  operation: "insert" | "update" | "delete";
  columns: string[];
  when: string | null;
}

export interface ReplicationSettings {
  walLevel: string;
  role: string;
  canReplicate: boolean;
}

export async function readReplicationSettings(sql: Sql): Promise<ReplicationSettings> {
  const [row] = await sql<{ wal_level: string; role: string; can_replicate: boolean }[]>`
    select current_setting('wal_level') as wal_level, current_user as role,
           (select r.rolreplication or r.rolsuper from pg_roles r where r.rolname = current_user) as can_replicate`;
  return { walLevel: row.wal_level, role: row.role, canReplicate: row.can_replicate };
}

/** The columns of a table (or partitioned table); empty when there is no such table. */
export async function tableColumns(sql: Sql, schema: string, table: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select a.attname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = ${schema} and c.relname = ${table} and c.relkind in ('r', 'p')`;
  return rows.map((row) => row.name);
}

/** Records the triggers of these tasks (replacing what they had) and reshapes the publications; returns tables switched to REPLICA IDENTITY FULL. */
export async function syncTableTriggers(sql: Sql, taskKeys: readonly string[], triggers: readonly RecordedTableTrigger[]) {
  const rows = triggers.map((t) => ({
    task_key: t.taskKey,
    queue: t.queue,
    position: t.position,
    schema_name: t.schema,
    table_name: t.table,
    operation: t.operation,
    columns: t.columns,
    when_condition: t.when,
  }));
  return sql<{ schema_name: string; table_name: string }[]>`
    select * from pgconductor.sync_table_triggers(${taskKeys as string[]}::text[], ${JSON.stringify(rows)}::text::jsonb)`;
}

export async function hasRecordedTriggers(sql: Sql, taskKeys: readonly string[]): Promise<boolean> {
  const [row] = await sql`select 1 from pgconductor.table_triggers where task_key = any (${taskKeys as string[]}::text[]) limit 1`;
  return row !== undefined;
}

export async function loadTableTriggers(sql: Sql): Promise<RecordedTableTrigger[]> {
  const rows = await sql<{ task_key: string; queue: string; position: number; schema_name: string; table_name: string; operation: RecordedTableTrigger["operation"]; columns: string[]; when_condition: string | null }[]>`
    select task_key, queue, position, schema_name, table_name, operation, columns, when_condition
    from pgconductor.table_triggers order by task_key, position`;
  return rows.map((r) => ({
    taskKey: r.task_key,
    queue: r.queue,
    position: r.position,
    schema: r.schema_name,
    table: r.table_name,
    operation: r.operation,
    columns: r.columns,
    when: r.when_condition,
  }));
}

/**
 * Our publications that exist now. PostgreSQL 15–17 end the whole stream when `publication_names`
 * names one that does not exist (18 skips it), so a session names only these.
 */
export async function existingPublications(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select pubname as name from pg_publication where pubname = any (${[...PUBLICATIONS]}::text[]) order by pubname`;
  return rows.map((row) => row.name);
}

/** Slots are cluster-wide but belong to one database: the database's oid keeps the name unique. */
export async function slotNameFor(sql: Sql): Promise<string> {
  const [row] = await sql<{ name: string }[]>`
    select 'pgconductor_' || oid::text as name from pg_database where datname = current_database()`;
  return row.name;
}

export interface SlotState {
  confirmed: string | null;
  walStatus: string | null;
  active: boolean;
  /** Output plugin (ours is pgoutput; null for a physical slot). */
  plugin: string | null;
}

export async function readSlot(sql: Sql, slot: string): Promise<SlotState | undefined> {
  const [row] = await sql<{ confirmed: string | null; wal_status: string | null; active: boolean; plugin: string | null }[]>`
    select confirmed_flush_lsn::text as confirmed, wal_status, active, plugin from pg_replication_slots where slot_name = ${slot}`;
  return row && { confirmed: row.confirmed, walStatus: row.wal_status, active: row.active, plugin: row.plugin };
}

/**
 * Creates the permanent pgoutput slot unless it exists (several orchestrators may race here). Call it
 * only once the publications exist: on PostgreSQL 15–17 a slot cannot decode a change made before a
 * publication it is read with was created, and would fail on it at every reconnect.
 */
export async function ensureSlot(sql: Sql, slot: string): Promise<boolean> {
  const [existing] = await sql`select 1 from pg_replication_slots where slot_name = ${slot}`;
  if (existing) return false;
  try {
    await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "42710") return false; // created by another orchestrator meanwhile
    throw error;
  }
}

/**
 * With no table triggers left, the slot would keep WAL forever: drop it, the publications and the
 * watermark. A slot still being read is left to its consumer, which drops it when it sees no triggers.
 */
export async function dropPlumbingIfUnused(sql: Sql, slot: string): Promise<boolean> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${TABLE_TRIGGERS_LOCK})`;
    const [used] = await tx`select 1 from pgconductor.table_triggers limit 1`;
    if (used) return false;
    const [row] = await tx<{ active: boolean }[]>`select active from pg_replication_slots where slot_name = ${slot}`;
    if (row?.active) return false;
    if (row) await tx`select pg_drop_replication_slot(${slot})`;
    // Only the ones that exist: `drop publication if exists` would send a NOTICE for each missing one.
    for (const publication of await existingPublications(tx as unknown as Sql)) await tx.unsafe(`drop publication ${publication}`);
    await tx`delete from pgconductor.table_change_progress where slot_name = ${slot}`;
    return row !== undefined;
  }) as Promise<boolean>;
}

/** Replaces the slot with a new one starting now (its watermark goes with it); for an invalidated or undecodable slot. */
export async function recreateSlot(sql: Sql, slot: string): Promise<void> {
  await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
  await sql`delete from pgconductor.table_change_progress where slot_name = ${slot}`;
  await ensureSlot(sql, slot);
}

/** wal_sender_timeout in milliseconds (0: off). */
export async function walSenderTimeoutMs(sql: Sql): Promise<number> {
  const [row] = await sql<{ ms: number }[]>`select setting::int as ms from pg_settings where name = 'wal_sender_timeout'`;
  return row?.ms ?? 0;
}

export interface TableChangeExecution {
  /** End LSN of the change's transaction, as text ("0/16B3748"). */
  commitEnd: string;
  taskKey: string;
  queue: string;
  payload: unknown;
  dedupeKey: string;
  eventName: string;
}

/** The executions of a burst of transactions and the watermark `upto`, in one statement (sql/004). */
export async function recordTableChanges(sql: Sql, slot: string, upto: string, executions: readonly TableChangeExecution[]): Promise<void> {
  await sql`
    select pgconductor.record_table_changes(
      ${slot}, ${upto}::pg_lsn,
      ${executions.map((e) => e.commitEnd)}::text[]::pg_lsn[],
      ${executions.map((e) => e.taskKey)}::text[],
      ${executions.map((e) => e.queue)}::text[],
      ${executions.map((e) => JSON.stringify(e.payload))}::text[]::jsonb[],
      ${executions.map((e) => e.dedupeKey)}::text[],
      ${executions.map((e) => e.eventName)}::text[])`;
}
