/**
 * The plumbing of table triggers in the database: checking them against the catalog, recording them,
 * the publications (via pgconductor.sync_table_triggers) and the replication slot.
 */
import type { Sql } from "postgres";
import { ConfigurationError } from "../../model/errors";
import type { Task, TableTrigger } from "../../model/task";
import { parseColumns } from "../../model/table-trigger-shape";
import type { RegisteredTrigger } from "./match";
import { checkWhen } from "./when";
import { TABLE_TRIGGERS_LOCK } from "../../model/locks";

/** Publications, one per operation (see sql/004_table_triggers.sql). */
export const PUBLICATIONS = ["pgconductor_insert", "pgconductor_update", "pgconductor_delete"] as const;

/** The table triggers of these tasks, in the shape they are recorded in. */
export function tableTriggersOf(tasks: readonly Task[]): RegisteredTrigger[] {
  return tasks.flatMap((task) =>
    task.triggers.flatMap((trigger, position) => {
      if (!("table" in trigger)) return [];
      const { schema, table, operation, columns, when } = trigger as TableTrigger;
      return [{ taskKey: task.name, queue: task.queue, position, schema, table, operation, columns: parseColumns(columns), when: when ?? null }];
    }),
  );
}

export interface ReplicationSettings {
  walLevel: string;
  role: string;
  canReplicate: boolean;
}

/** What stops table triggers from working on this server, each with the fix. */
export function replicationProblems(settings: ReplicationSettings): string[] {
  const problems: string[] = [];
  if (settings.walLevel !== "logical") {
    problems.push(
      `wal_level is "${settings.walLevel}" but table triggers read the WAL through logical replication: ` +
        `run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL`,
    );
  }
  if (!settings.canReplicate) {
    problems.push(
      `role "${settings.role}" may not use replication (table triggers read a logical replication slot): ` +
        `run ALTER ROLE "${settings.role}" WITH REPLICATION (on a managed service, grant its replication role)`,
    );
  }
  return problems;
}

export async function readReplicationSettings(sql: Sql): Promise<ReplicationSettings> {
  const [row] = await sql<{ wal_level: string; role: string; can_replicate: boolean }[]>`
    select current_setting('wal_level') as wal_level, current_user as role,
           (select r.rolreplication or r.rolsuper from pg_roles r where r.rolname = current_user) as can_replicate`;
  return { walLevel: row.wal_level, role: row.role, canReplicate: row.can_replicate };
}

/** Unknown tables or columns and bad `when` conditions; every problem names task, table and column. */
export async function catalogProblems(sql: Sql, triggers: readonly RegisteredTrigger[]): Promise<string[]> {
  const problems: string[] = [];
  for (const trigger of triggers) {
    const label = `createTask "${trigger.taskKey}", table trigger on ${trigger.schema}.${trigger.table}`;
    const columns = await sql<{ name: string }[]>`
      select a.attname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = ${trigger.schema} and c.relname = ${trigger.table} and c.relkind in ('r', 'p')`;
    if (columns.length === 0) {
      problems.push(`${label}: table "${trigger.schema}"."${trigger.table}" does not exist (create it before starting the orchestrator)`);
      continue;
    }
    const known = new Set(columns.map((column) => column.name));
    for (const column of trigger.columns) {
      if (!known.has(column)) {
        problems.push(`${label}: column "${column}" does not exist in ${trigger.schema}.${trigger.table} (columns: ${[...known].join(", ")})`);
      }
    }
    if (trigger.when) {
      const complaint = await checkWhen(sql, trigger, trigger.when);
      if (complaint) problems.push(`${label}: when "${trigger.when}" is not a valid boolean condition over NEW/OLD: ${complaint}`);
    }
  }
  return problems;
}

export function throwProblems(problems: readonly string[]): void {
  if (problems.length === 1) throw new ConfigurationError(problems[0]);
  if (problems.length > 1) throw new ConfigurationError(`table triggers cannot start:\n- ${problems.join("\n- ")}`);
}

/** Records the triggers of these tasks (replacing what they had) and reshapes the publications; returns tables switched to REPLICA IDENTITY FULL. */
export async function syncTableTriggers(sql: Sql, taskKeys: readonly string[], triggers: readonly RegisteredTrigger[]) {
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

export async function loadTableTriggers(sql: Sql): Promise<RegisteredTrigger[]> {
  const rows = await sql<{ task_key: string; queue: string; position: number; schema_name: string; table_name: string; operation: RegisteredTrigger["operation"]; columns: string[]; when_condition: string | null }[]>`
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

/** Slots are cluster-wide but belong to one database: the database's oid keeps the name unique. */
export async function slotNameFor(sql: Sql): Promise<string> {
  const [row] = await sql<{ name: string }[]>`
    select 'pgconductor_' || oid::text as name from pg_database where datname = current_database()`;
  return row.name;
}

/** Creates the permanent pgoutput slot unless it exists (several orchestrators may race here). */
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
    for (const publication of PUBLICATIONS) await tx.unsafe(`drop publication if exists ${publication}`);
    await tx`delete from pgconductor.table_change_progress where slot_name = ${slot}`;
    return row !== undefined;
  }) as Promise<boolean>;
}

/** Replaces an invalidated slot with a new one starting now (its watermark goes with it). */
export async function recreateSlot(sql: Sql, slot: string): Promise<void> {
  await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
  await sql`delete from pgconductor.table_change_progress where slot_name = ${slot}`;
  await ensureSlot(sql, slot);
}
