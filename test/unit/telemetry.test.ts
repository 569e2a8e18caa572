import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { startAttempt, traceStep, observeQueueDepth } from "../../src/runtime/telemetry/attempt";
import { telemetryActive } from "../../src/runtime/telemetry/instruments";
import { activeTraceparent, formatTraceparent, parseTraceparent } from "../../src/runtime/telemetry/trace-context";
import { attemptOutcome, queueWaitSeconds } from "../../src/runtime/telemetry/traced-attempt";

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

function registerSdk() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const collect = async () => {
    await reader.forceFlush();
    const points = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
    for (const resource of exporter.getMetrics()) for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) {
      points.set(metric.descriptor.name, metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
    }
    return points;
  };
  return { spans, collect, shutdown: () => meterProvider.shutdown() };
}

test("traceparent round-trips; garbage and all-zero ids are no context", () => {
  const span = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
  expect(formatTraceparent(span)).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  expect(parseTraceparent(formatTraceparent(span))).toEqual({ ...span, isRemote: true });
  expect(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
  expect(parseTraceparent("nonsense")).toBeNull();
  expect(parseTraceparent(null)).toBeNull();
});

test("without a registered provider everything is a no-op and nothing is traced", async () => {
  expect(telemetryActive()).toBe(false);
  expect(activeTraceparent()).toBeNull();
  const scope = startAttempt({ executionId: "e", task: "t", queue: "q", attempt: 1, traceContext: null, queueWaitSeconds: 0 });
  expect(scope.run(() => 42)).toBe(42);
  scope.end({ kind: "completed" });
  expect(startAttempt({ executionId: "f", task: "t", queue: "q", attempt: 1, traceContext: null, queueWaitSeconds: 0 })).toBe(scope);
  await expect(traceStep("s", async () => "value")).resolves.toBe("value");
});

test("an attempt span is the child of the invoking span and parents its steps; counters and histograms record", async () => {
  const sdk = registerSdk();
  expect(telemetryActive()).toBe(true);
  const tracer = trace.getTracer("app");
  const traceContext = tracer.startActiveSpan("POST /orders", (span) => {
    const tp = activeTraceparent();
    span.end();
    return tp;
  });
  expect(traceContext).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

  const scope = startAttempt({ executionId: "exec-1", task: "charge", queue: "billing", attempt: 2, traceContext, queueWaitSeconds: 1.5 });
  await scope.run(() => traceStep("authorize", async () => "ok"));
  scope.end({ kind: "failed", error: new Error("declined"), final: false });
  const second = startAttempt({ executionId: "exec-1", task: "charge", queue: "billing", attempt: 3, traceContext, queueWaitSeconds: 0.5 });
  second.end({ kind: "completed" });

  const spans = sdk.spans.getFinishedSpans();
  const invoking = spans.find((s) => s.name === "POST /orders")!;
  const attempts = spans.filter((s) => s.name === "pgconductor.attempt charge");
  const step = spans.find((s) => s.name === "pgconductor.step authorize")!;
  expect(attempts).toHaveLength(2);
  for (const attempt of attempts) {
    expect(attempt.spanContext().traceId).toBe(invoking.spanContext().traceId);
    expect(attempt.parentSpanContext?.spanId).toBe(invoking.spanContext().spanId);
  }
  expect(step.parentSpanContext?.spanId).toBe(attempts[0].spanContext().spanId);
  expect(attempts[0].attributes).toMatchObject({ "pgconductor.execution_id": "exec-1", "pgconductor.attempt": 2, "pgconductor.outcome": "failed" });
  expect(attempts[0].status).toMatchObject({ code: 2, message: "declined" });

  const unregister = observeQueueDepth(async () => [{ queue: "billing", depth: 7 }]);
  const points = await sdk.collect();
  const attributes = { "pgconductor.task": "charge", "pgconductor.queue": "billing" };
  expect(points.get("pgconductor.executions.started")).toEqual([{ attributes, value: 2 }]);
  expect(points.get("pgconductor.executions.retried")).toEqual([{ attributes, value: 1 }]);
  expect(points.get("pgconductor.executions.completed")).toEqual([{ attributes, value: 1 }]);
  expect(points.get("pgconductor.queue.wait")?.[0].value).toMatchObject({ count: 2, sum: 2 });
  expect(points.get("pgconductor.attempt.duration")).toHaveLength(2); // one series per outcome
  expect(points.get("pgconductor.queue.depth")).toEqual([{ attributes: { "pgconductor.queue": "billing" }, value: 7 }]);
  unregister();
  await sdk.shutdown();
});

test("queue wait is the claim's time minus run_at; an unknown or infinite run_at gives none", () => {
  const at = (iso: string) => new Date(iso);
  expect(queueWaitSeconds({ run_at: at("2026-01-01T00:00:00.000Z"), locked_at: at("2026-01-01T00:00:02.500Z") })).toBe(2.5);
  // A row claimed a moment before its run_at (millisecond rounding) waited 0, not a negative time.
  expect(queueWaitSeconds({ run_at: at("2026-01-01T00:00:01.000Z"), locked_at: at("2026-01-01T00:00:00.999Z") })).toBe(0);
  expect(queueWaitSeconds({ run_at: new Date(Number.NaN), locked_at: at("2026-01-01T00:00:00Z") })).toBeNull();
  expect(queueWaitSeconds({} as never)).toBeNull();
});

test("a failed attempt is final when the database gives up: no attempts left, or a failed child", () => {
  const fail = (final: boolean) => ({ kind: "fail" as const, id: "e", error: "boom", final });
  expect(attemptOutcome(fail(false), { attempts: 1 }, { maxAttempts: 3 })).toMatchObject({ kind: "failed", final: false });
  expect(attemptOutcome(fail(false), { attempts: 3 }, { maxAttempts: 3 })).toMatchObject({ kind: "failed", final: true });
  expect(attemptOutcome(fail(true), { attempts: 1 }, { maxAttempts: 3 })).toMatchObject({ kind: "failed", final: true });
  expect(attemptOutcome({ kind: "release", id: "e" }, { attempts: 1 }, { maxAttempts: 3 })).toEqual({ kind: "released" });
  expect(attemptOutcome({ kind: "suspended", id: "e" }, { attempts: 1 }, { maxAttempts: 3 })).toEqual({ kind: "suspended" });
});
