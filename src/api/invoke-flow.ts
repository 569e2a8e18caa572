/**
 * The flow-control parts of invoke: the concurrency_key option, checked against the task's
 * settings when the task is registered here, and writing keyed rows through invoke_keyed.
 */
import { ConfigurationError } from "../model/errors";
import type { Task } from "../model/task";
import type { NewExecution } from "../db/invoke";
import { flowSettingsOf, takesConcurrencyKey } from "../model/flow-settings";

/**
 * `concurrency_key` of one invoke: a non-empty string, and only for a task with a keyed limit
 * (keyConcurrency or rateLimit.perKey). A task not registered on this Conductor (an invoke-only
 * process) cannot be checked here; its key is stored as given.
 */
export function resolveConcurrencyKey(taskName: string, value: unknown, task: Task | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigurationError(`Task "${taskName}": concurrency_key must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  if (task && !takesConcurrencyKey(flowSettingsOf(task))) {
    throw new ConfigurationError(`Task "${taskName}": concurrency_key needs a keyed limit on the task (keyConcurrency or rateLimit.perKey)`);
  }
  return value;
}

/** Plain rows through `plain`, keyed rows through `keyed`; ids come back in input order. */
export async function writeKeyedApart(
  rows: readonly NewExecution[],
  plain: (rows: NewExecution[]) => Promise<string[]>,
  keyed: (rows: NewExecution[]) => Promise<string[]>,
): Promise<string[]> {
  const isKeyed = (row: NewExecution) => row.concurrencyKey != null;
  if (!rows.some(isKeyed)) return plain([...rows]);
  const plainIds = await plain(rows.filter((row) => !isKeyed(row)));
  const keyedIds = await keyed(rows.filter(isKeyed));
  let p = 0;
  let k = 0;
  return rows.map((row) => (isKeyed(row) ? keyedIds[k++] : plainIds[p++]));
}
