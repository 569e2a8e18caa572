/**
 * What must hold before table triggers can start: the server's settings and the user's catalog, each
 * problem named with task, table and column, and the triggers of the tasks in the shape they are recorded.
 */
import type { Sql } from "postgres";
import { ConfigurationError } from "../../model/errors";
import type { Task, TableTrigger } from "../../model/task";
import { parseColumns } from "../../model/table-trigger-shape";
import { checkWhen } from "../../db/table-trigger-when";
import { tableColumns, type ReplicationSettings } from "../../db/table-triggers";
import type { RegisteredTrigger } from "./match";

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

/** Unknown tables or columns and bad `when` conditions; every problem names task, table and column. */
export async function catalogProblems(sql: Sql, triggers: readonly RegisteredTrigger[]): Promise<string[]> {
  const problems: string[] = [];
  for (const trigger of triggers) {
    const label = `createTask "${trigger.taskKey}", table trigger on ${trigger.schema}.${trigger.table}`;
    const columns = await tableColumns(sql, trigger.schema, trigger.table);
    if (columns.length === 0) {
      problems.push(`${label}: table "${trigger.schema}"."${trigger.table}" does not exist (create it before starting the orchestrator)`);
      continue;
    }
    const known = new Set(columns);
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
