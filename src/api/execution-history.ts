/**
 * Rebuilding past events from an execution's row. The row keeps when it was created, first
 * started, last claimed, and finished, plus its attempt count and last error, so history is:
 * `created`; `started` for the first attempt; `started` again for the attempt running now (if it is
 * not the first); `retrying` if it waits for a retry after a failed attempt; and the final event
 * (`completed`, `failed` or `cancelled`). Attempts in between are not stored and cannot be replayed.
 */
import type { HistoryRow } from "../db/observability";
import type { ExecutionEvent } from "../model/execution-event";

export function historyEvents(row: HistoryRow): ExecutionEvent[] {
  const base = { executionId: row.id, task: row.task_key, queue: row.queue, replayed: true };
  const events: ExecutionEvent[] = [{ ...base, kind: "created", attempt: 0, at: new Date(row.created_ms) }];
  if (row.started_ms !== null) events.push({ ...base, kind: "started", attempt: 1, at: new Date(row.started_ms) });
  if (row.status === "running" && row.locked_ms !== null && (row.attempts > 1 || row.locked_ms !== row.started_ms)) {
    events.push({ ...base, kind: "started", attempt: row.attempts, at: new Date(row.locked_ms) });
  }
  if (row.retried_ms !== null) {
    events.push({ ...base, kind: "retrying", attempt: row.attempts, at: new Date(row.retried_ms), error: row.last_error ?? undefined });
  }
  if (row.finished_ms !== null) {
    const at = new Date(row.finished_ms);
    if (row.status === "completed") events.push({ ...base, kind: "completed", attempt: row.attempts, at, result: row.result });
    if (row.status === "failed") events.push({ ...base, kind: "failed", attempt: row.attempts, at, error: row.last_error ?? undefined });
    if (row.status === "cancelled") events.push({ ...base, kind: "cancelled", attempt: row.attempts, at, error: row.cancel_reason ?? "cancelled" });
  }
  return events;
}

/** Identifies an event across history and the live stream (one transition, one transaction time). */
export function eventKey(event: Pick<ExecutionEvent, "executionId" | "kind" | "attempt" | "at">): string {
  return `${event.executionId}|${event.kind}|${event.attempt}|${event.at.getTime()}`;
}
