/**
 * The runner's hook into telemetry: one attempt of a claimed execution inside its span (the
 * handler, its steps and whatever it calls see the span as active), and its Outcome reported as
 * counters and histograms. Without a registered provider, `run` is called directly.
 */
import type { ClaimedExecution } from "../../db/claim";
import type { Task } from "../../model/task";
import type { Outcome } from "../run-execution";
import { startAttempt, type AttemptOutcome } from "./attempt";
import { telemetryActive } from "./instruments";

export function traceAttempt(execution: ClaimedExecution, task: Task, run: () => Promise<Outcome>): Promise<Outcome> {
  return telemetryActive() ? tracedAttempt(execution, task, run) : run();
}

async function tracedAttempt(execution: ClaimedExecution, task: Task, run: () => Promise<Outcome>): Promise<Outcome> {
  const scope = startAttempt({
    executionId: execution.id,
    task: task.name,
    queue: execution.queue,
    attempt: execution.attempts,
    traceContext: execution.trace_context ?? null,
    queueWaitSeconds: queueWaitSeconds(execution),
  });
  let outcome: Outcome;
  try {
    outcome = await scope.run(run);
  } catch (error) {
    scope.end({ kind: "failed", error, final: false });
    throw error;
  }
  scope.end(attemptOutcome(outcome, execution, task));
  return outcome;
}

/** run_at → claim, both read from the database's clock in the claim statement (null when unknown). */
export function queueWaitSeconds(execution: Pick<ClaimedExecution, "run_at" | "locked_at">): number | null {
  const due = execution.run_at?.getTime();
  const started = execution.locked_at?.getTime();
  if (due === undefined || started === undefined || !Number.isFinite(due) || !Number.isFinite(started)) return null;
  return Math.max(0, started - due) / 1000;
}

/** A failure is final when the database will give up on it: no attempts left, or a final error. */
export function attemptOutcome(outcome: Outcome, execution: Pick<ClaimedExecution, "attempts">, task: Pick<Task, "maxAttempts">): AttemptOutcome {
  switch (outcome.kind) {
    case "complete":
      return { kind: "completed" };
    case "fail":
      return { kind: "failed", error: outcome.cause ?? new Error(outcome.error), final: outcome.final || execution.attempts >= task.maxAttempts };
    case "cancelled":
      return { kind: "cancelled" };
    case "release":
      return { kind: "released" };
    case "suspended":
      return { kind: "suspended" };
  }
}
