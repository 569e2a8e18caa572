/**
 * The invoke options and references checked before anything is written, so a value PostgreSQL would
 * refuse (an int4 overflow, a NUL in text, a time out of timestamptz range) is an error naming the
 * task, the field and the rule instead of a driver error half-way through a batch.
 */
import { ConfigurationError } from "./errors";
import { assertStorableText, describe, INT4_MAX, INT4_MIN } from "./validate";

/** Throttle and debounce windows end `now() + seconds` in SQL; beyond this they overflow an interval. */
export const MAX_GATE_SECONDS = 100 * 365.25 * 24 * 60 * 60;
/** timestamptz starts at 4713 BC but ISO text before year 1 does not parse; no one means that. */
const EARLIEST_RUN_AT = new Date("0001-01-01T00:00:00Z").getTime();

export interface CheckedInvokeOptions {
  runAt: Date | null;
}

export function checkTaskReference(subject: string, ref: { name?: unknown; queue?: unknown }): void {
  assertStorableText(subject, "name", ref.name, { nonEmpty: true });
  if (ref.queue !== undefined) assertStorableText(subject, "queue", ref.queue, { nonEmpty: true });
}

/** `subject` is e.g. `Task "send-email"`. Throttle/debounce/concurrency_key shapes are checked by their own resolvers. */
export function checkInvokeOptions(subject: string, options: {
  priority?: unknown;
  run_at?: unknown;
  dedupe_key?: unknown;
  concurrency_key?: unknown;
  throttle?: unknown;
  debounce?: unknown;
}): CheckedInvokeOptions {
  const { priority, dedupe_key, concurrency_key } = options;
  if (priority !== undefined && !(Number.isInteger(priority) && (priority as number) >= INT4_MIN && (priority as number) <= INT4_MAX)) {
    throw new ConfigurationError(`${subject}: priority must be an integer from ${INT4_MIN} to ${INT4_MAX} (got ${describe(priority)})`);
  }
  if (dedupe_key !== undefined && dedupe_key !== null) assertStorableText(subject, "dedupe_key", dedupe_key);
  if (concurrency_key !== undefined && concurrency_key !== null) assertStorableText(subject, "concurrency_key", concurrency_key);
  for (const kind of ["throttle", "debounce"] as const) {
    const gate = options[kind] as { seconds?: unknown; maxSeconds?: unknown } | undefined | null;
    for (const field of ["seconds", "maxSeconds"] as const) {
      const value = gate?.[field];
      if (typeof value === "number" && value > MAX_GATE_SECONDS) {
        throw new ConfigurationError(`${subject}: ${kind}.${field} must be at most ${MAX_GATE_SECONDS} (100 years) (got ${value})`);
      }
    }
  }
  return { runAt: checkRunAt(subject, options.run_at) };
}

function checkRunAt(subject: string, value: unknown): Date | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Date) && typeof value !== "number" && typeof value !== "string") {
    throw new ConfigurationError(`${subject}: run_at must be a Date or epoch milliseconds (got ${describe(value)})`);
  }
  const runAt = new Date(value);
  if (Number.isNaN(runAt.getTime())) throw new ConfigurationError(`${subject}: run_at is not a valid time (${String(value)})`);
  if (runAt.getTime() < EARLIEST_RUN_AT) {
    throw new ConfigurationError(`${subject}: run_at must be in year 1 or later (got ${runAt.toISOString()})`);
  }
  return runAt;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An execution id is a UUID; anything else would reach PostgreSQL as a uuid syntax error. */
export function assertExecutionId(call: string, id: unknown): string {
  if (typeof id !== "string" || !UUID.test(id)) throw new ConfigurationError(`${call}: the execution id must be a UUID, got ${describe(id)}`);
  return id;
}

/**
 * The arguments of conductor.cancel (an id, or a task reference and a dedupe key, then options):
 * returns the reason to store. The task reference itself is checked by the Conductor.
 */
export function checkCancelArguments(target: unknown, second: unknown, third: unknown): string | null {
  let options: unknown;
  if (typeof target === "string") {
    assertExecutionId("cancel", target);
    options = second;
  } else {
    if (typeof second === "string") assertStorableText(`cancel("${(target as { name?: string })?.name}")`, "the dedupe key", second);
    options = third;
  }
  const reason = (options as { reason?: unknown } | undefined | null)?.reason;
  if (reason === undefined || reason === null) return null;
  return assertStorableText("cancel", "reason", reason);
}

/** Longest ctx.sleep and child timeout: beyond it `now() + interval` overflows in SQL. */
export const MAX_DURATION_MS = MAX_GATE_SECONDS * 1000;

/** A duration in ms (ctx.sleep, a child's timeout): a finite number from 0 to 100 years. */
export function checkDurationMs(subject: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new ConfigurationError(`${subject}: ${field} must be a number of milliseconds from 0 to ${MAX_DURATION_MS} (100 years) (got ${describe(value)})`);
  }
  return value;
}
