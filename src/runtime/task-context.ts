/**
 * Builds `ctx` for one attempt of one execution. Steps, sleeps and child results are stored in
 * `pgconductor.steps` under a prefix (`step:`, `sleep:`, `invoke:`) so their names never collide.
 *
 * A step's result is written when the handler next reaches the database (the next step, a sleep,
 * a child invoke) or, for the last step, together with the attempt's outcome: a step never runs
 * before every step before it is stored, but the last one costs the handler no round trip. A crash
 * before the outcome is written runs the last step again, as a crash before any step's write always
 * did: steps are at least once.
 */
import type { Sql } from "postgres";
import { ChildExecutionError, ChildTimeoutError, PgConductorError } from "../model/errors";
import type { Logger } from "../model/logger";
import type { TaskReference } from "../model/task";
import { invokeChild, sleepExecution } from "../db/steps";
import { stepWriterFor } from "./step-writer";
import { assertStorableText } from "../model/validate";
import { checkDurationMs } from "../model/invoke-checks";
import { Interruption } from "./interruptions";
import { traceSpan, traceStep } from "./telemetry/attempt";
import { activeTraceparent } from "./telemetry/trace-context";
import type { OnDemandAbortController } from "./on-demand-abort";

export interface ExecutionControl {
  readonly executionId: string;
  /** Stored results from earlier attempts, by prefixed name. */
  readonly stored: Map<string, unknown>;
  /** Aborted on cancel, timeout or a forced stop; its signal is made only if the handler reads ctx.signal. */
  readonly cancellation: Pick<OnDemandAbortController, "aborted" | "signal">;
  /** True once the orchestrator is stopping (or the task's window closed): release at the next boundary. */
  shouldRelease(): boolean;
  /** Set when the execution hung up in the database; the handler's outcome is then ignored. */
  suspended: boolean;
  /** The last step's result, not yet written: the next step writes it first, or the outcome carries it. */
  unsavedStep?: UnsavedStep | null;
}

export interface UnsavedStep {
  executionId: string;
  name: string;
  result: unknown;
}

export interface ChildInvoker {
  /** Validates the payload and resolves the child's queue. */
  prepareChild(ref: TaskReference, payload: unknown): Promise<{ taskKey: string; queue: string; payload: unknown }>;
}

/** Dynamic cron schedules (the Conductor): ctx.schedule / ctx.unschedule delegate here. */
export interface Scheduler {
  schedule(ref: TaskReference, scheduleName: string, schedule: { cron: string; tz?: string }, payload?: unknown): Promise<Date>;
  unschedule(ref: TaskReference, scheduleName: string): Promise<boolean>;
}

export function createTaskContext(options: {
  sql: Sql;
  control: ExecutionControl;
  logger: Logger;
  context: object;
  children: ChildInvoker;
  schedules?: Scheduler;
}) {
  const { sql, control, logger, context, children, schedules } = options;
  const usedNames = new Set<string>();
  let unnamedChildren = 0;

  const interruptIfNeeded = () => {
    if (control.suspended) throw new Interruption("suspended");
    if (control.cancellation.aborted) throw new Interruption("cancelled");
    if (control.shouldRelease()) throw new Interruption("released");
  };
  const claimName = (key: string, label: string) => {
    if (usedNames.has(key)) throw new PgConductorError(`${label} is used twice in execution ${control.executionId}: names must be unique`);
    usedNames.add(key);
  };
  const suspend = (): never => {
    control.suspended = true;
    throw new Interruption("suspended");
  };

  async function step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    assertStorableText("ctx.step", "the step name", name);
    const key = `step:${name}`;
    claimName(key, `Step "${name}"`);
    interruptIfNeeded();
    if (control.stored.has(key)) return (control.stored.get(key) as { value?: T }).value as T;
    await saveUnsavedStep();
    // The span covers the function: its result is written at the next boundary (see the top).
    const stored = await traceStep(name, async () => ({ value: toJson(await fn(), `Step "${name}"`) }));
    control.stored.set(key, stored);
    control.unsavedStep = { executionId: control.executionId, name: key, result: stored };
    return stored.value as T;
  }

  /** Before anything that depends on the steps so far being stored. */
  async function saveUnsavedStep(): Promise<void> {
    const unsaved = control.unsavedStep;
    if (!unsaved) return;
    await stepWriterFor(sql).save(unsaved.executionId, unsaved.name, unsaved.result);
    control.unsavedStep = null;
  }

  async function sleep(name: string, ms: number): Promise<void> {
    assertStorableText("ctx.sleep", "the sleep name", name);
    checkDurationMs(`Sleep "${name}"`, "ms", ms);
    const key = `sleep:${name}`;
    claimName(key, `Sleep "${name}"`);
    interruptIfNeeded();
    const stored = control.stored.get(key) as { until?: string } | undefined;
    if (stored?.until && Date.parse(stored.until) <= Date.now()) return;
    await saveUnsavedStep();
    const state = await traceSpan(`pgconductor.sleep ${name}`, { "pgconductor.sleep_ms": ms }, () => sleepExecution(sql, control.executionId, key, ms));
    if (state === "waiting") suspend();
  }

  async function invoke(...args: unknown[]): Promise<unknown> {
    const named = typeof args[0] === "string";
    const name = named ? (args[0] as string) : `${(args[0] as TaskReference).name}#${++unnamedChildren}`;
    const [ref, payload, timeoutMs] = (named ? args.slice(1) : args) as [TaskReference, unknown, number | undefined];
    assertStorableText("ctx.invoke", "the step name", name);
    if (timeoutMs !== undefined && timeoutMs !== null) checkDurationMs(`Child invoke "${name}"`, "timeoutMs", timeoutMs);
    const key = `invoke:${name}`;
    claimName(key, `Child invoke "${name}"`);
    interruptIfNeeded();
    let outcome = control.stored.get(key) as { result?: unknown; error?: string } | undefined;
    if (!outcome) {
      await saveUnsavedStep();
      // The child's row carries this span's traceparent: its attempts continue the parent's trace.
      const row = await traceSpan(`pgconductor.invoke ${name}`, { "pgconductor.child_task": ref.name }, async () => {
        const child = await children.prepareChild(ref, payload);
        return invokeChild(sql, control.executionId, key, child, timeoutMs ?? null, activeTraceparent());
      });
      if (row.state === "timeout") throw new ChildTimeoutError(`Child execution "${name}" (${ref.name}) timed out after ${timeoutMs} ms`);
      if (row.state === "waiting") suspend();
      outcome = row.outcome ?? {};
    }
    if (outcome.error !== undefined) throw new ChildExecutionError(outcome.error);
    return outcome.result;
  }

  async function checkpoint(): Promise<void> {
    interruptIfNeeded();
  }

  // Not memoised as steps: scheduling is idempotent (same name, cron and payload keep the pending run).
  async function schedule(ref: TaskReference, scheduleName: string, spec: { cron: string; tz?: string }, payload?: unknown): Promise<Date> {
    interruptIfNeeded();
    if (!schedules) throw new PgConductorError("ctx.schedule is not available in this context");
    return schedules.schedule(ref, scheduleName, spec, payload);
  }

  async function unschedule(ref: TaskReference, scheduleName: string): Promise<boolean> {
    interruptIfNeeded();
    if (!schedules) throw new PgConductorError("ctx.unschedule is not available in this context");
    return schedules.unschedule(ref, scheduleName);
  }

  return {
    ...context,
    step,
    sleep,
    invoke,
    checkpoint,
    schedule,
    unschedule,
    logger,
    get signal() {
      return control.cancellation.signal;
    },
    executionId: control.executionId,
  };
}

/** A step result must survive a JSON round trip; the error names the step. */
function toJson(value: unknown, label: string): unknown {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new PgConductorError(`${label} returned a value that cannot be stored as JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new PgConductorError(`${label} returned a value that cannot be stored as JSON (${typeof value})`);
  return JSON.parse(text);
}
