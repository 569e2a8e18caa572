/**
 * The server-side plumbing of table triggers: the recorded triggers, the publications and the
 * permanent slot, set up (or torn down) when an orchestrator starts, and the wait for a slot to be
 * released by the walsender that read it.
 */
import type { Sql } from "postgres";
import type { Logger } from "../../model/logger";
import type { Task } from "../../model/task";
import { dropPlumbingIfUnused, ensureSlot, hasRecordedTriggers, readReplicationSettings, readSlot, slotNameFor, syncTableTriggers } from "../../db/table-triggers";
import { catalogProblems, replicationProblems, tableTriggersOf, throwProblems } from "./checks";

/**
 * Checks and records the triggers of `tasks`, then makes sure publications and slot exist; with no
 * table trigger left anywhere, drops them. `consume` is whether this orchestrator competes to read.
 */
export async function setUpPlumbing(sql: Sql, logger: Logger, tasks: readonly Task[]): Promise<{ slot: string; consume: boolean }> {
  const own = tableTriggersOf(tasks);
  const taskKeys = tasks.map((task) => task.name);
  if (own.length > 0) {
    throwProblems(replicationProblems(await readReplicationSettings(sql)));
    throwProblems(await catalogProblems(sql, own));
  }
  const slot = await slotNameFor(sql);
  // The publications first, then the slot: on PostgreSQL 15–17 a slot cannot decode changes made
  // before a publication it is read with existed, and would fail on them at every reconnect.
  if (own.length > 0 || (await hasRecordedTriggers(sql, taskKeys))) {
    for (const table of await syncTableTriggers(sql, taskKeys, own)) {
      const name = `${table.schema_name}.${table.table_name}`;
      logger.warn(`table changes: set REPLICA IDENTITY FULL on ${name} so updates and deletes carry old values`, { table: name });
    }
  }
  if (own.length === 0) {
    await dropIfUnused(sql, logger, slot);
    return { slot, consume: false };
  }
  if (await ensureSlot(sql, slot)) logger.info("table changes: created logical replication slot", { slot });
  return { slot, consume: true };
}

/** With no table trigger recorded, the slot would keep WAL forever: drop it and the publications. */
export async function dropIfUnused(sql: Sql, logger: Logger, slot: string): Promise<void> {
  if (await dropPlumbingIfUnused(sql, slot)) {
    logger.info("table changes: no table triggers left; dropped the replication slot and publications", { slot });
  }
}

/**
 * The server ends the walsender a moment after our connection closes; until then the slot is
 * "active" and cannot be read by the next consumer or dropped. Wait briefly for it.
 */
export async function slotReleased(sql: Sql, slot: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (!(await readSlot(sql, slot))?.active) return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
