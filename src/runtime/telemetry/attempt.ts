/**
 * One attempt as the runner reports it: a span (child of the invoking span, carried on the row),
 * counters and histograms. `startAttempt` returns a shared no-op when no provider is registered,
 * so an untraced, unmetered process pays one check per attempt.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import { INSTRUMENTATION_SCOPE, instruments, metricsActive, tracingActive } from "./instruments";
import { parentContext } from "./trace-context";

export interface AttemptInfo {
  executionId: string;
  task: string;
  queue: string;
  attempt: number;
  /** executions.trace_context. */
  traceContext: string | null;
  /** Seconds from run_at to the claim, on the database's clock (null when unknown). */
  queueWaitSeconds: number | null;
}

export type AttemptOutcome =
  | { kind: "completed" }
  | { kind: "failed"; error: unknown; final: boolean }
  | { kind: "cancelled" }
  /** Handed back (stop, checkpoint, window) or hung up (sleep, child): not an end of the execution. */
  | { kind: "released" | "suspended" };

export interface AttemptScope {
  /** Runs the handler inside the attempt's span context (step spans become its children). */
  run<T>(fn: () => T): T;
  end(outcome: AttemptOutcome): void;
}

const NOOP_SCOPE: AttemptScope = { run: (fn) => fn(), end: () => {} };

export function startAttempt(info: AttemptInfo): AttemptScope {
  const tracing = tracingActive();
  const metering = metricsActive();
  if (!tracing && !metering) return NOOP_SCOPE;
  const attributes: Attributes = { "pgconductor.task": info.task, "pgconductor.queue": info.queue };
  const startedAt = performance.now();
  let span: Span | null = null;
  let active: Context = context.active();
  if (tracing) {
    span = trace.getTracer(INSTRUMENTATION_SCOPE).startSpan(
      `pgconductor.attempt ${info.task}`,
      { kind: SpanKind.CONSUMER, attributes: { ...attributes, "pgconductor.execution_id": info.executionId, "pgconductor.attempt": info.attempt } },
      parentContext(info.traceContext),
    );
    active = trace.setSpan(context.active(), span);
  }
  if (metering) {
    const m = instruments();
    m.started.add(1, attributes);
    if (info.queueWaitSeconds !== null) m.queueWait.record(Math.max(0, info.queueWaitSeconds), attributes);
  }
  let ended = false;
  return {
    run: (fn) => (span ? context.with(active, fn) : fn()),
    end(outcome) {
      if (ended) return;
      ended = true;
      if (metering) recordOutcome(outcome, attributes, (performance.now() - startedAt) / 1000);
      if (span) {
        span.setAttribute("pgconductor.outcome", outcome.kind);
        if (outcome.kind === "failed") {
          if (outcome.error instanceof Error) span.recordException(outcome.error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
          span.setAttribute("pgconductor.final", outcome.final);
        }
        span.end();
      }
    },
  };
}

function recordOutcome(outcome: AttemptOutcome, attributes: Attributes, seconds: number): void {
  const m = instruments();
  m.attemptDuration.record(seconds, { ...attributes, "pgconductor.outcome": outcome.kind });
  if (outcome.kind === "completed") m.completed.add(1, attributes);
  else if (outcome.kind === "cancelled") m.cancelled.add(1, attributes);
  else if (outcome.kind === "failed") (outcome.final ? m.failed : m.retried).add(1, attributes);
}

/** A step's function inside its own span, a child of the attempt's (only when tracing). */
export function traceStep<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return traceSpan(`pgconductor.step ${name}`, undefined, fn);
}

/**
 * `fn` inside a span named `spanName`, a child of the active one (the attempt's, inside a handler);
 * an error it throws is recorded and sets the span's status. Only when tracing.
 */
export function traceSpan<T>(spanName: string, attributes: Attributes | undefined, fn: () => Promise<T>): Promise<T> {
  if (!tracingActive()) return fn();
  return trace.getTracer(INSTRUMENTATION_SCOPE).startActiveSpan(spanName, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof Error) span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Reports runnable executions per queue as pgconductor.queue.depth on every collection. The reader
 * runs a query only when the application's metric reader collects. Returns the unregister call.
 */
export function observeQueueDepth(read: () => Promise<{ queue: string; depth: number }[]>): () => void {
  if (!metricsActive()) return () => {};
  const gauge = instruments().queueDepth;
  const callback = async (result: { observe(value: number, attributes?: Attributes): void }) => {
    for (const row of await read()) result.observe(row.depth, { "pgconductor.queue": row.queue });
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
