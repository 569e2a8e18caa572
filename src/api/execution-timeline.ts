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

const DEADLINE = "#deadline";

function untilOf(result: unknown): Date | null {
  const until = (result as { until?: unknown } | null)?.until;
  if (typeof until !== "string") return null;
  const date = new Date(until);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function buildTimeline(row: ExecutionDetailRow, steps: readonly StepRow[], children: readonly RelatedRow[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: row.created_at, kind: "created", text: `created by ${row.event_name}` }];
  const childSteps = new Set(children.map((child) => child.parent_step).filter((step): step is string => step !== null));
  if (row.attempts === 0 && row.status === "pending" && row.run_at > row.created_at) {
    entries.push({ at: row.run_at, kind: "scheduled", text: "due" });
  }
  if (row.started_at) entries.push({ at: row.started_at, kind: "started", text: "first attempt started" });

  for (const step of steps) {
    if (step.name.endsWith(DEADLINE)) {
      const until = untilOf(step.result);
      entries.push({ at: step.created_at, kind: "deadline", text: `child ${step.name.slice(0, -DEADLINE.length)} times out at ${until?.toISOString() ?? "?"}` });
    } else if (childSteps.has(step.name)) {
      const error = (step.result as { error?: unknown } | null)?.error;
      entries.push({ at: step.created_at, kind: "step", text: `child result stored as step ${step.name}${error ? ` (error: ${String(error)})` : ""}` });
    } else {
      const until = untilOf(step.result);
      if (until && Object.keys(step.result as object).length === 1) {
        entries.push({ at: step.created_at, kind: "sleep", text: `sleep ${step.name} until ${until.toISOString()}` });
      } else {
        entries.push({ at: step.created_at, kind: "step", text: `step ${step.name} completed` });
      }
    }
  }
  for (const child of children) {
    entries.push({ at: child.created_at, kind: "child", text: `invoked ${child.task_key} ${child.id}${child.parent_step ? ` (step ${child.parent_step})` : ""}` });
    if (child.finished_at) entries.push({ at: child.finished_at, kind: "child-finished", text: `child ${child.id} ${child.status}` });
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
