/**
 * The flow-control settings of a task (keyConcurrency, rateLimit, retry, timeoutMs), checked at
 * createTask: a bad value is a ConfigurationError naming the task and the field, before anything
 * is written.
 */
import { ConfigurationError } from "../model/errors";

export interface RateLimit {
  limit: number;
  periodSeconds: number;
  perKey: boolean;
}

export interface RetryPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Fraction 0–1 of each delay taken off at random. */
  jitter: number;
}

export interface FlowSettings {
  keyConcurrency: number | null;
  rateLimit: RateLimit | null;
  retry: RetryPolicy | null;
  timeoutMs: number | null;
}

export interface FlowOptions {
  name: string;
  concurrency?: number;
  keyConcurrency?: number;
  rateLimit?: { limit: number; periodSeconds: number; perKey?: boolean };
  retry?: { initialMs: number; factor?: number; maxMs?: number; jitter?: number };
  timeoutMs?: number;
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const show = (value: unknown) => (typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));

export function resolveFlowSettings(options: FlowOptions): FlowSettings {
  const fail = (field: string, rule: string, value: unknown): never => {
    throw new ConfigurationError(`createTask "${options.name}": ${field} ${rule} (got ${show(value)})`);
  };
  const positiveInteger = (field: string, value: unknown) => {
    if (!Number.isInteger(value) || (value as number) < 1) fail(field, "must be a positive integer", value);
    return value as number;
  };

  let keyConcurrency: number | null = null;
  if (options.keyConcurrency !== undefined) {
    keyConcurrency = positiveInteger("keyConcurrency", options.keyConcurrency);
    if (isNumber(options.concurrency) && keyConcurrency > options.concurrency) {
      fail("keyConcurrency", `cannot exceed concurrency (${options.concurrency})`, keyConcurrency);
    }
  }

  let rateLimit: RateLimit | null = null;
  if (options.rateLimit !== undefined) {
    const given = options.rateLimit as Partial<FlowOptions["rateLimit"]> | null;
    if (given === null || typeof given !== "object") fail("rateLimit", "must be { limit, periodSeconds, perKey? }", given);
    const limit = positiveInteger("rateLimit.limit", given!.limit);
    const period = given!.periodSeconds;
    if (!isNumber(period) || period <= 0) fail("rateLimit.periodSeconds", "must be a number of seconds > 0", period);
    const perKey = given!.perKey ?? false;
    if (typeof perKey !== "boolean") fail("rateLimit.perKey", "must be true or false", perKey);
    rateLimit = { limit, periodSeconds: period as number, perKey };
  }

  let retry: RetryPolicy | null = null;
  if (options.retry !== undefined) {
    const given = options.retry as Partial<RetryPolicy> | null;
    if (given === null || typeof given !== "object") fail("retry", "must be { initialMs, factor, maxMs, jitter }", given);
    const initialMs = given!.initialMs;
    if (!isNumber(initialMs) || initialMs < 0) fail("retry.initialMs", "must be a number of milliseconds >= 0", initialMs);
    const factor = given!.factor ?? 2;
    if (!isNumber(factor) || factor < 1) fail("retry.factor", "must be a number >= 1", factor);
    const maxMs = given!.maxMs ?? Math.max(initialMs as number, 60 * 60 * 1000);
    if (!isNumber(maxMs) || maxMs < (initialMs as number)) fail("retry.maxMs", `must be a number of milliseconds >= initialMs (${initialMs})`, maxMs);
    const jitter = given!.jitter ?? 0;
    if (!isNumber(jitter) || jitter < 0 || jitter > 1) fail("retry.jitter", "must be a fraction from 0 to 1", jitter);
    retry = { initialMs: initialMs as number, factor: factor as number, maxMs: maxMs as number, jitter: jitter as number };
  }

  let timeoutMs: number | null = null;
  if (options.timeoutMs !== undefined) {
    const value = options.timeoutMs;
    if (!isNumber(value) || value <= 0 || value > 2_147_483_647) fail("timeoutMs", "must be a number of milliseconds > 0 (at most 2^31-1)", value);
    timeoutMs = value;
  }

  return { keyConcurrency, rateLimit, retry, timeoutMs };
}

/** Whether executions of a task with these settings take a concurrency_key. */
export function takesConcurrencyKey(settings: FlowSettings): boolean {
  return settings.keyConcurrency !== null || settings.rateLimit?.perKey === true;
}

/** Whether the task is claimed through the limited path (per-key or rate limits, or a task limit). */
export function isFlowLimited(settings: FlowSettings, concurrency: number | null): boolean {
  return concurrency !== null || settings.keyConcurrency !== null || settings.rateLimit !== null;
}

const cache = new WeakMap<object, FlowSettings>();

/** The flow settings of a registered task (checked once, at createTask). */
export function flowSettingsOf(task: { name: string; options: object }): FlowSettings {
  let settings = cache.get(task.options);
  if (!settings) {
    settings = resolveFlowSettings({ ...(task.options as FlowOptions), name: task.name });
    cache.set(task.options, settings);
  }
  return settings;
}
