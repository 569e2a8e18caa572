/**
 * OpenTelemetry instruments of pgconductor, through @opentelemetry/api only: until the application
 * registers a MeterProvider or TracerProvider they are no-ops, and `telemetryActive()` says so,
 * so callers skip even building attributes. The metrics API has no proxy, so instruments are
 * created from the provider registered at the time and re-created if it changes.
 */
import { metrics, ProxyTracerProvider, trace, createNoopMeter, type Counter, type Histogram, type Meter, type ObservableGauge } from "@opentelemetry/api";

export const INSTRUMENTATION_SCOPE = "pgconductor-js";

export interface Instruments {
  meter: Meter;
  started: Counter;
  completed: Counter;
  failed: Counter;
  retried: Counter;
  cancelled: Counter;
  attemptDuration: Histogram;
  queueWait: Histogram;
  queueDepth: ObservableGauge;
}

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();

export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

export function metricsActive(): boolean {
  return metrics.getMeter(INSTRUMENTATION_SCOPE) !== NOOP_METER;
}

export function telemetryActive(): boolean {
  return tracingActive() || metricsActive();
}

let cached: Instruments | null = null;

export function instruments(): Instruments {
  const meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
  if (cached?.meter === meter) return cached;
  const counter = (name: string, description: string) => meter.createCounter(name, { description, unit: "{execution}" });
  cached = {
    meter,
    started: counter("pgconductor.executions.started", "Attempts started (an execution's first and every later attempt)."),
    completed: counter("pgconductor.executions.completed", "Executions completed."),
    failed: counter("pgconductor.executions.failed", "Executions failed for good (no attempts left, or a final error)."),
    retried: counter("pgconductor.executions.retried", "Failed attempts followed by another after the backoff."),
    cancelled: counter("pgconductor.executions.cancelled", "Running executions that stopped because they were cancelled."),
    attemptDuration: meter.createHistogram("pgconductor.attempt.duration", { description: "Time an attempt's handler ran.", unit: "s" }),
    queueWait: meter.createHistogram("pgconductor.queue.wait", { description: "Time from due (run_at) to started, on the database's clock.", unit: "s" }),
    queueDepth: meter.createObservableGauge("pgconductor.queue.depth", { description: "Runnable executions waiting in the queue.", unit: "{execution}" }),
  };
  return cached;
}
