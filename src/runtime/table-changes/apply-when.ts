/**
 * The `when` conditions of a burst of candidates, decided by the database in one statement. If a
 * condition fails on some row (say a division by zero), each candidate is decided alone and the
 * failing ones are logged and skipped, so one bad row cannot stop the stream. Any other error (the
 * connection) is thrown: the session ends and the burst is replayed.
 */
import type { Sql } from "postgres";
import type { Logger } from "../../model/logger";
import { passingWhen, type whenStatement } from "../../db/table-trigger-when";
import type { Candidate } from "./match";

type WhenStatement = ReturnType<typeof whenStatement>;

export async function applyWhen(sql: Sql, statement: WhenStatement, candidates: Candidate[], logger: Logger): Promise<Candidate[]> {
  try {
    return await filterByWhen(sql, statement, candidates);
  } catch (error) {
    if (!isConditionError(error)) throw error;
  }
  const kept: Candidate[] = [];
  for (const candidate of candidates) {
    try {
      kept.push(...(await filterByWhen(sql, statement, [candidate])));
    } catch (error) {
      if (!isConditionError(error)) throw error;
      logger.error(`table changes: when "${candidate.trigger.when}" failed on a row; the change is skipped for this task`, {
        task: candidate.trigger.taskKey,
        change: candidate.dedupeKey,
        error,
      });
    }
  }
  return kept;
}

async function filterByWhen(sql: Sql, statement: WhenStatement, candidates: readonly Candidate[]): Promise<Candidate[]> {
  const inputs = candidates.map((c) => ({ trigger: c.trigger, newRow: c.change.new, oldRow: c.change.old }));
  const passed = await passingWhen(sql, statement, inputs);
  return candidates.filter((_, n) => passed.has(n));
}

/** Data exceptions (class 22) and errors in the expression itself (class 42): the row or the condition, not the connection. */
function isConditionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("42"));
}
