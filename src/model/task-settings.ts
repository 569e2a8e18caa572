/**
 * The execution-control settings of a task (concurrency, window, retention, batch), checked at
 * createTask so a bad value fails there with the task and the rule named.
 */
import { ConfigurationError } from "./errors";
import type { TaskOptions } from "./task";
import { parseClockTime, type TimeWindow } from "./time-window";

/** How long a finished execution is kept: null forever, 0 removed as soon as it finishes. */
export type RetentionMs = number | null;

export interface TaskSettings {
  concurrency: number | null;
  window: TimeWindow | null;
  removeOnCompleteMs: RetentionMs;
  removeOnFailMs: RetentionMs;
  batch: { size: number; timeoutMs: number } | null;
}

import { DEFAULT_REMOVE_ON_COMPLETE_DAYS, DEFAULT_REMOVE_ON_FAIL_DAYS } from "./defaults";

export { DEFAULT_REMOVE_ON_COMPLETE_DAYS, DEFAULT_REMOVE_ON_FAIL_DAYS };
const DAY_MS = 24 * 60 * 60 * 1000;

export function resolveTaskSettings(options: TaskOptions): TaskSettings {
  const name = options.name;
  const fail = (rule: string): never => {
    throw new ConfigurationError(`createTask "${name}": ${rule}`);
  };

  let concurrency: number | null = null;
  if (options.concurrency !== undefined) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) fail(`concurrency must be a positive integer (got ${String(options.concurrency)})`);
    concurrency = options.concurrency;
  }

  let window: TimeWindow | null = null;
  if (options.window !== undefined) {
    const pair = options.window as unknown;
    if (!Array.isArray(pair) || pair.length !== 2) fail(`window must be a pair of "HH:MM" times, e.g. ["09:00", "17:00"] (got ${JSON.stringify(pair)})`);
    const [start, end] = (pair as unknown[]).map(parseClockTime);
    if (start === null || end === null) fail(`window times must be "HH:MM" in 24-hour form (got ${JSON.stringify(pair)})`);
    const timeZone = options.windowTimeZone;
    if (timeZone !== undefined) {
      try {
        new Intl.DateTimeFormat("en-GB", { timeZone });
      } catch {
        fail(`windowTimeZone "${timeZone}" is not a known IANA time zone`);
      }
    }
    window = { start: start!, end: end!, timeZone };
  } else if (options.windowTimeZone !== undefined) {
    fail("windowTimeZone needs a window");
  }

  const retention = (value: TaskOptions["removeOnComplete"], field: string, defaultDays: number): RetentionMs => {
    if (value === undefined) return defaultDays * DAY_MS;
    if (value === true) return 0;
    if (value === false) return null;
    const days = (value as { days?: unknown })?.days;
    if (typeof days !== "number" || !Number.isFinite(days) || days < 0) fail(`${field} must be true, false or { days: n } with n >= 0 (got ${JSON.stringify(value)})`);
    return (days as number) * DAY_MS;
  };

  let batch: TaskSettings["batch"] = null;
  if (options.batch !== undefined) {
    const { size, timeoutMs } = (options.batch ?? {}) as { size?: unknown; timeoutMs?: unknown };
    if (!Number.isInteger(size) || (size as number) < 1) fail(`batch.size must be a positive integer (got ${String(size)})`);
    if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) fail(`batch.timeoutMs must be a number of milliseconds >= 0 (got ${String(timeoutMs)})`);
    batch = { size: size as number, timeoutMs: timeoutMs as number };
  }

  return {
    concurrency,
    window,
    removeOnCompleteMs: retention(options.removeOnComplete, "removeOnComplete", DEFAULT_REMOVE_ON_COMPLETE_DAYS),
    removeOnFailMs: retention(options.removeOnFail, "removeOnFail", DEFAULT_REMOVE_ON_FAIL_DAYS),
    batch,
  };
}

const cache = new WeakMap<object, TaskSettings>();

/** The settings of a registered task (checked once, at createTask). */
export function settingsOf(task: { options: TaskOptions }): TaskSettings {
  let settings = cache.get(task.options);
  if (!settings) {
    settings = resolveTaskSettings(task.options);
    cache.set(task.options, settings);
  }
  return settings;
}
