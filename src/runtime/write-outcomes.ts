import type { Sql } from "postgres";
import { completeExecutions, failExecutions, markCancelled, releaseExecutions } from "../db/outcomes";
import type { Outcome } from "./run-execution";
import { failWithDelays } from "../db/flow-control";
import { saveSteps } from "../db/steps";

/**
 * Writes a batch of outcomes: one statement per kind present (usually just one), after the last
 * step results they carry (a retry must find them stored; a completed execution does not care).
 */
export async function writeOutcomes(sql: Sql, outcomes: readonly Outcome[]): Promise<void> {
  const steps = outcomes.flatMap((o) => o.steps ?? []);
  if (steps.length) await saveSteps(sql, steps);
  const completed = outcomes.filter((o): o is Extract<Outcome, { kind: "complete" }> => o.kind === "complete");
  const failed = outcomes.filter((o): o is Extract<Outcome, { kind: "fail" }> => o.kind === "fail");
  const released = outcomes.filter((o) => o.kind === "release").map((o) => o.id);
  const cancelled = outcomes.filter((o) => o.kind === "cancelled").map((o) => o.id);
  const writes: Promise<unknown>[] = [];
  if (completed.length) writes.push(completeExecutions(sql, completed.map((o) => o.id), completed.map((o) => o.result)));
  if (failed.some((o) => o.delayMs != null)) {
    writes.push(failWithDelays(sql, failed.map((o) => o.id), failed.map((o) => o.error), failed.map((o) => o.final), failed.map((o) => o.delayMs ?? null)));
  } else if (failed.length) {
    writes.push(failExecutions(sql, failed.map((o) => o.id), failed.map((o) => o.error), failed.map((o) => o.final)));
  }
  if (released.length) writes.push(releaseExecutions(sql, released));
  if (cancelled.length) writes.push(markCancelled(sql, cancelled));
  await Promise.all(writes);
}
