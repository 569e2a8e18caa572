/**
 * An execution's timeline, rebuilt from what the tables keep: its timestamps, its stored steps
 * (each with the time it was written), its children, and its last error. The tables keep the last
 * state only, so earlier failed attempts appear as a count and the last error, not one by one.
 */
import type { ExecutionDetailRow, RelatedRow, StepRow } from "../db/inspect-executions";

export type TimelineKind =
  | "created" | "scheduled" | "started" | "step" | "sleep" | "child" | "child-finished" | "deadline"
  | "attempt-started" | "retry-scheduled" | "waiting" | "cancel-requested" | "completed" | "failed" | "cancelled";

export interface TimelineEntry {
  at: Date;
  kind: TimelineKind;
  text: string;
}

export interface StoredStep {
  /** step: ctx.step; sleep: ctx.sleep; invoke: a child's outcome (ctx.invoke); deadline: a child's timeout. */
  kind: "step" | "sleep" | "invoke" | "deadline" | "other";
  /** The name the task gave it. */
  name: string;
  /** step: its return value; sleep: { until }; invoke: { result } or { error }; deadline: { until }. */
  result: unknown;
  at: Date;
}

/** Steps are stored under a prefix (`step:`, `sleep:`, `invoke:`, see runtime/task-context). */
export function describeStep(step: StepRow): StoredStep {
  const match = /^(step|sleep|invoke):(.*)$/s.exec(step.name);
  if (!match) return { kind: "other", name: step.name, result: step.result, at: step.created_at };
  const [, prefix, name] = match;
  if (prefix === "invoke" && name.endsWith("#deadline")) return { kind: "deadline", name: name.slice(0, -"#deadline".length), result: step.result, at: step.created_at };
  if (prefix === "step") return { kind: "step", name, result: (step.result as { value?: unknown } | null)?.value ?? null, at: step.created_at };
  return { kind: prefix as "sleep" | "invoke", name, result: step.result, at: step.created_at };
}

const untilOf = (result: unknown) => (result as { until?: unknown } | null)?.until;

export function buildTimeline(row: ExecutionDetailRow, steps: readonly StepRow[], children: readonly RelatedRow[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: row.created_at, kind: "created", text: `created by ${row.event_name}` }];
  if (row.attempts === 0 && row.status === "pending" && row.run_at > row.created_at) {
    entries.push({ at: row.run_at, kind: "scheduled", text: "due" });
  }
  if (row.started_at) entries.push({ at: row.started_at, kind: "started", text: "first attempt started" });

  for (const step of steps.map(describeStep)) {
    const text =
      step.kind === "step" ? `step ${step.name} completed`
      : step.kind === "sleep" ? `sleep ${step.name} until ${String(untilOf(step.result))}`
      : step.kind === "deadline" ? `child ${step.name} times out at ${String(untilOf(step.result))}`
      : step.kind === "invoke" ? `child ${step.name} ${(step.result as { error?: unknown } | null)?.error !== undefined ? `failed: ${String((step.result as { error: unknown }).error)}` : "returned"}`
      : `stored ${step.name}`;
    entries.push({ at: step.at, kind: step.kind === "invoke" ? "child-finished" : step.kind === "other" ? "step" : step.kind, text });
  }
  for (const child of children) {
    entries.push({ at: child.created_at, kind: "child", text: `invoked ${child.task_key} ${child.id}${child.parent_step ? ` (step ${child.parent_step})` : ""}` });
  }

  if (row.status === "running" && row.locked_at && row.attempts > 1) {
    entries.push({ at: row.locked_at, kind: "attempt-started", text: `attempt ${row.attempts} started` });
  }
  if (row.status === "pending" && row.attempts > 0 && row.last_error !== null && !row.waiting_for) {
    entries.push({ at: row.run_at, kind: "retry-scheduled", text: `attempt ${row.attempts} failed (${row.last_error}); attempt ${row.attempts + 1} due` });
  }
  if (row.status === "pending" && row.waiting_for) {
    entries.push({ at: row.now, kind: "waiting", text: `waiting for child ${row.waiting_for}` });
  }
  if (row.cancel_requested && row.status === "running") {
    entries.push({ at: row.now, kind: "cancel-requested", text: `cancel requested${row.cancel_reason ? `: ${row.cancel_reason}` : ""}` });
  }
  if (row.finished_at) {
    const text = row.status === "completed" ? `completed after ${row.attempts} attempt(s)`
      : row.status === "failed" ? `failed after ${row.attempts} attempt(s): ${row.last_error ?? ""}`
      : `cancelled${row.cancel_reason ? `: ${row.cancel_reason}` : ""}`;
    entries.push({ at: row.finished_at, kind: row.status as TimelineKind, text });
  }
  // Stable: entries written in causal order above keep it when their times are equal.
  return entries.map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at.getTime() - b.entry.at.getTime() || a.index - b.index)
    .map(({ entry }) => entry);
}
