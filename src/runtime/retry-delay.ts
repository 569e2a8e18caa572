/**
 * The delay before the next attempt of a failed execution, in milliseconds: an error's own
 * `retryAfterMs` (e.g. from a 429 response) wins; otherwise the task's retry policy; null leaves
 * the default backoff (15 s, 30 s, then 60 s) to the database.
 */
import type { RetryPolicy } from "../model/flow-settings";

/** The numeric `retryAfterMs` an error carries, if any (a non-negative finite number). */
export function retryAfterOf(error: unknown): number | null {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * `attempt` is the number of the attempt that failed (1 for the first). The policy's delay is
 * initialMs × factor^(attempt − 1), capped at maxMs, minus up to `jitter` of it at random (so maxMs
 * stays a true maximum and attempts of many executions failing together spread out).
 */
export function retryDelayMs(policy: RetryPolicy | null, attempt: number, retryAfterMs: number | null, random: () => number = Math.random): number | null {
  if (retryAfterMs !== null) return Math.round(retryAfterMs);
  if (policy === null) return null;
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter * random()));
}
