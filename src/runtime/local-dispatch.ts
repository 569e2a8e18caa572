/**
 * The local fast path: when the process that invokes also runs an idle worker for the execution's
 * queue, the invoke writes the execution already claimed by that worker's orchestrator and hands the
 * row straight to it. The execution starts one commit after invoke() is called, with no work
 * notification and no claim round trip. Everything else is as for a claimed execution: the heartbeat
 * names it, the rescuer re-runs it if the process dies, its outcome is written by the completer.
 *
 * The worker reserves the slot before the row is written (so concurrency holds) and only when it is
 * idle-waiting (the queue had nothing runnable for it), so the new execution overtakes no older or
 * higher-priority one. Limited, batch, paused and out-of-window tasks never take this path.
 */
import type { ClaimedExecution } from "../db/claim";

export interface LocalSlot {
  /** The orchestrator the row is written as claimed by. */
  readonly orchestratorId: string;
  /** The row was written: run it. */
  start(execution: ClaimedExecution): void;
  /** Nothing was written (the write failed, or the invoke took another path): free the slot. */
  cancel(): void;
}

export interface LocalDispatch {
  /** A reserved slot for a new, due-now execution of this task on this queue, or null. */
  reserve(queue: string, taskKey: string): LocalSlot | null;
}
