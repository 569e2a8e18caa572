/**
 * One attempt of one execution: build ctx, call the handler, turn what happened into an Outcome.
 * (The attempt's span and metrics wrap this from outside: telemetry/traced-attempt.ts.)
 */
import { ChildExecutionError, ChildTimeoutError } from "../model/errors";
import type { Task } from "../model/task";
import type { ClaimedExecution } from "../db/claim";
import { isInterruption } from "./interruptions";
import type { ExecutionControl, UnsavedStep } from "./task-context";
import { flowSettingsOf } from "../model/flow-settings";
import { retryAfterOf, retryDelayMs } from "./retry-delay";

/** `steps`: the attempt's last step result, written before the outcome (task-context.ts). */
export type Outcome = (
  | { kind: "complete"; id: string; result: unknown }
  /** delayMs: before the next attempt (retry policy or the error's retryAfterMs); null: default backoff. */
  | { kind: "fail"; id: string; error: string; final: boolean; delayMs?: number | null; cause?: unknown }
  | { kind: "release"; id: string }
  | { kind: "cancelled"; id: string }
  /** The execution already hung up in the database (sleep, child): nothing left to write. */
  | { kind: "suspended"; id: string }
) & { steps?: UnsavedStep[] };

export async function runExecution(
  execution: ClaimedExecution,
  task: Task,
  control: ExecutionControl,
  makeContext: (control: ExecutionControl) => object,
): Promise<Outcome> {
  const outcome = await handlerOutcome(execution, task, control, makeContext);
  const unsaved = control.unsavedStep;
  return unsaved ? { ...outcome, steps: [unsaved] } : outcome;
}

async function handlerOutcome(
  execution: ClaimedExecution,
  task: Task,
  control: ExecutionControl,
  makeContext: (control: ExecutionControl) => object,
): Promise<Outcome> {
  const id = execution.id;
  if (execution.cancel_requested) return { kind: "cancelled", id };
  try {
    const result = await task.handler({ name: execution.event_name, payload: execution.payload }, makeContext(control));
    if (control.suspended) return { kind: "suspended", id };
    return { kind: "complete", id, result: result === undefined ? null : result };
  } catch (error) {
    if (control.suspended) return { kind: "suspended", id };
    if (control.cancellation.aborted) return { kind: "cancelled", id };
    if (isInterruption(error)) return error.reason === "released" ? { kind: "release", id } : { kind: "cancelled", id };
    const final = error instanceof ChildExecutionError || error instanceof ChildTimeoutError;
    return failure(execution, task, error, final);
  }
}

/** A failed attempt, with the delay before the next one from the task's retry policy or the error. */
export function failure(execution: ClaimedExecution, task: Task, error: unknown, final = false): Outcome {
  const delayMs = retryDelayMs(flowSettingsOf(task).retry, execution.attempts, retryAfterOf(error));
  return { kind: "fail", id: execution.id, error: describeError(error), final, delayMs, cause: error };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
