/**
 * invoke()'s local fast path (src/runtime/local-dispatch.ts): a single execution that the plain
 * invoke would write as due now, with no dedupe key, gate or concurrency key, goes to an idle local
 * worker of its queue as one INSERT of the row already claimed. Anything else, or no slot: null, and
 * the caller writes it the usual way. A caller's transaction never takes this path: the handler
 * would start before that transaction commits (or after it rolled back).
 */
import type { Sql } from "postgres";
import { invokeClaimed, type NewExecution } from "../db/invoke";
import type { LocalDispatch } from "../runtime/local-dispatch";

export function takesLocalPath(row: NewExecution): boolean {
  return !row.dedupeKey && !row.gate && row.concurrencyKey == null && row.runAt == null;
}

/** The new execution's id, or null when no local worker took it (nothing was written). */
export async function invokeLocally(sql: Sql, dispatchers: Iterable<LocalDispatch>, row: NewExecution): Promise<string | null> {
  if (!takesLocalPath(row)) return null;
  for (const dispatcher of dispatchers) {
    const slot = dispatcher.reserve(row.queue, row.taskKey);
    if (!slot) continue;
    let claimed;
    try {
      claimed = await invokeClaimed(sql, row, slot.orchestratorId);
    } catch (error) {
      // Had it committed with the answer lost, the heartbeat releases the unheld row after the lease.
      slot.cancel();
      throw error;
    }
    slot.start(claimed);
    return claimed.id;
  }
  return null;
}
