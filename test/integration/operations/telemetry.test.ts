/**
 * OpenTelemetry end to end: an app registers the SDK (in-memory exporters), invokes inside its own
 * span, and an orchestrator on a real PostgreSQL runs the work. The trace context travels in the
 * execution row; counters, histograms and the queue-depth gauge are read from the SDK's reader.
 */
import { context, metrics, trace, type Span } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { deferred, eventually, executionRow, hour, statusOf, trackOrchestrators } from "../../support/helpers";

type Tasks = [
  DefineTask<{ name: "checkout"; payload: { order: number }; returns: { receipt: string } }>,
  DefineTask<{ name: "receipt"; payload: { order: number }; returns: string }>,
  DefineTask<{ name: "notify"; payload: { n: number } }>,
  DefineTask<{ name: "keyed"; payload: { n: number } }>,
  DefineTask<{ name: "flaky"; payload: { n: number } }>,
  DefineTask<{ name: "doomed"; payload: { n: number } }>,
  DefineTask<{ name: "stoppable"; payload: { n: number } }>,
  DefineTask<{ name: "late"; payload: { n: number } }>,
  DefineTask<{ name: "held"; payload: { n: number } }>,
];

const db = useTestDatabase();
const track = trackOrchestrators();

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
  context.disable();
});

type Point = { attributes: Record<string, unknown>; value: unknown };

/** One collection: every metric's data points by name. */
async function collect(): Promise<Map<string, Point[]>> {
  metricExporter.reset();
  await reader.forceFlush();
  const points = new Map<string, Point[]>();
  for (const resource of metricExporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      if (scope.scope.name !== "pgconductor-js") continue;
      for (const metric of scope.metrics) {
        points.set(metric.descriptor.name, (metric as HistogramMetricData).dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
      }
    }
  }
  return points;
}

/** The value of a counter for one task (0 when it has no data point). */
function countOf(points: Map<string, Point[]>, name: string, task: string): number {
  const point = points.get(name)?.find((p) => p.attributes["pgconductor.task"] === task);
  return (point?.value as number | undefined) ?? 0;
}

function histogramOf(points: Map<string, Point[]>, name: string, task: string) {
  const series = (points.get(name) ?? []).filter((p) => p.attributes["pgconductor.task"] === task);
  return series.map((p) => p.value as { count: number; sum: number; min?: number; max?: number });
}

const attemptSpans = (task: string) => spans.getFinishedSpans().filter((s) => s.name === `pgconductor.attempt ${task}`);
const childrenOf = (parent: ReadableSpan) => spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
const traceparentOf = (span: Span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

/** Runs `fn` inside a span of the app's own, as a request handler would; returns the span too. */
async function inSpan<T>(name: string, fn: () => Promise<T>): Promise<{ span: Span; result: T }> {
  return trace.getTracer("app").startActiveSpan(name, async (span) => {
    try {
      return { span, result: await fn() };
    } finally {
      span.end();
    }
  });
}

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromTypes<Tasks>(), context: {}, logger: silentLogger });
  const started = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const tasks = [
    conductor.createTask({ name: "checkout" }, { invocable: true }, async (event, ctx) => {
      const authorized = await ctx.step("authorize", async () => `auth-${event.payload.order}`);
      await ctx.step("capture", async () => authorized);
      const receipt = await ctx.invoke("receipt", { name: "receipt" }, { order: event.payload.order });
      return { receipt };
    }),
    conductor.createTask({ name: "receipt" }, { invocable: true }, async (event) => `receipt-${event.payload.order}`),
    conductor.createTask({ name: "notify" }, { invocable: true }, async () => {}),
    conductor.createTask({ name: "keyed", keyConcurrency: 1 }, { invocable: true }, async () => {}),
    conductor.createTask({ name: "flaky" }, { invocable: true }, async (_event, ctx) => {
      const [{ attempts }] = await db.sql<{ attempts: number }[]>`select attempts from pgconductor.executions where id = ${ctx.executionId}`;
      if (attempts === 1) throw Object.assign(new Error("first attempt fails"), { retryAfterMs: 0 });
    }),
    conductor.createTask({ name: "doomed", maxAttempts: 1 }, { invocable: true }, async () => {
      throw new Error("never works");
    }),
    conductor.createTask({ name: "stoppable" }, { invocable: true }, async (event, ctx) => {
      started.get(event.payload.n)?.resolve();
      if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      await ctx.checkpoint();
    }),
    conductor.createTask({ name: "late" }, { invocable: true }, async () => {}),
    conductor.createTask({ name: "held", queue: "held" }, { invocable: true }, async () => {}),
  ];
  const orchestrator = track(Orchestrator.create({ conductor, tasks, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator, started };
}

test("each attempt's span continues the trace of the span that invoked it; steps and child invocations are its children", async () => {
  const { conductor, orchestrator } = setup();
  await orchestrator.start();

  const single = await inSpan("POST /checkout", () => conductor.invoke({ name: "checkout" }, { order: 1 }));
  const batch = await inSpan("POST /notify-all", () => conductor.invoke({ name: "notify" }, [{ payload: { n: 1 } }, { payload: { n: 2 } }]));
  const inTx = await inSpan("POST /notify-in-tx", () =>
    db.sql.begin((tx) => conductor.invoke({ name: "notify" }, { n: 3 }, { sql: tx as never })) as Promise<string>,
  );
  const keyed = await inSpan("POST /keyed", () => conductor.invoke({ name: "keyed" }, { n: 1 }, { concurrency_key: "tenant-a" }));
  const untraced = await conductor.invoke({ name: "notify" }, { n: 4 });

  const ids = [single.result, ...batch.result, inTx.result, keyed.result, untraced];
  await eventually(async () => (await Promise.all(ids.map((id) => statusOf(db.sql, id)))).every((s) => s === "completed"), { what: "every execution to complete" });

  // The row carries the invoking span's traceparent; nothing when no span was active.
  expect((await executionRow(db.sql, single.result)).trace_context).toBe(traceparentOf(single.span));
  for (const id of batch.result) expect((await executionRow(db.sql, id)).trace_context).toBe(traceparentOf(batch.span));
  expect((await executionRow(db.sql, inTx.result)).trace_context).toBe(traceparentOf(inTx.span));
  expect((await executionRow(db.sql, keyed.result)).trace_context).toBe(traceparentOf(keyed.span));
  expect((await executionRow(db.sql, untraced)).trace_context).toBeNull();

  const byExecution = (task: string, id: string) => attemptSpans(task).filter((s) => s.attributes["pgconductor.execution_id"] === id);
  const expectChildOf = (span: ReadableSpan, parent: Span | ReadableSpan) => {
    expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  };
  for (const id of batch.result) {
    const [attempt] = byExecution("notify", id);
    expectChildOf(attempt, batch.span);
    expect(attempt.attributes).toMatchObject({ "pgconductor.task": "notify", "pgconductor.queue": "default", "pgconductor.attempt": 1, "pgconductor.outcome": "completed" });
  }
  expectChildOf(byExecution("notify", inTx.result)[0], inTx.span);
  expectChildOf(byExecution("keyed", keyed.result)[0], keyed.span);
  const [untracedAttempt] = byExecution("notify", untraced);
  expect(untracedAttempt.parentSpanContext).toBeUndefined();
  expect([single, ...[batch, inTx, keyed]].map((s) => s.span.spanContext().traceId)).not.toContain(untracedAttempt.spanContext().traceId);

  // checkout: the first attempt runs both steps and invokes the child (then hangs up); the second
  // replays them from storage and completes. Both attempts are children of the invoking span.
  const checkout = byExecution("checkout", single.result).sort((a, b) => Number(a.attributes["pgconductor.attempt"]) - Number(b.attributes["pgconductor.attempt"]));
  expect(checkout.map((s) => s.attributes["pgconductor.outcome"])).toEqual(["suspended", "completed"]);
  for (const attempt of checkout) expectChildOf(attempt, single.span);
  expect(childrenOf(checkout[0]).map((s) => s.name).sort()).toEqual(["pgconductor.invoke receipt", "pgconductor.step authorize", "pgconductor.step capture"]);
  expect(childrenOf(checkout[1])).toEqual([]); // replayed steps and a stored child outcome are not spans

  // The child's attempt continues the same trace under the parent's invoke span.
  const invokeSpan = childrenOf(checkout[0]).find((s) => s.name === "pgconductor.invoke receipt")!;
  const [child] = await db.sql<{ id: string; trace_context: string }[]>`select id, trace_context from pgconductor.executions where parent_id = ${single.result}`;
  expect(child.trace_context).toBe(`00-${invokeSpan.spanContext().traceId}-${invokeSpan.spanContext().spanId}-01`);
  expectChildOf(byExecution("receipt", child.id)[0], invokeSpan);
  expect((await executionRow(db.sql, single.result)).result).toEqual({ receipt: "receipt-1" });
});

test("counters and histograms count attempts and outcomes; queue wait runs from run_at on the database's clock; queue depth reads the table", async () => {
  const { conductor, orchestrator, started } = setup();
  await conductor.pause({ queue: "held" });
  const heldIds = await conductor.invoke({ name: "held" }, [{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
  await conductor.invoke({ name: "held" }, { n: 4 }, { run_at: Date.now() + hour }); // not due: not counted
  // Due a minute ago by the database's clock: its queue wait is at least 60 s.
  const [{ due }] = await db.sql<{ due: Date }[]>`select now() - interval '60 seconds' as due`;
  const late = await conductor.invoke({ name: "late" }, { n: 1 }, { run_at: due });
  await orchestrator.start();

  const flaky = await conductor.invoke({ name: "flaky" }, { n: 1 });
  const doomed = await conductor.invoke({ name: "doomed" }, { n: 1 });
  started.set(1, deferred());
  const stoppable = await conductor.invoke({ name: "stoppable" }, { n: 1 });
  await started.get(1)!.promise;
  expect(await conductor.cancel(stoppable, { reason: "test" })).toBe(true);

  await eventually(async () => (await statusOf(db.sql, flaky)) === "completed", { what: "flaky to complete on its second attempt" });
  await eventually(async () => (await statusOf(db.sql, doomed)) === "failed", { what: "doomed to fail" });
  await eventually(async () => (await statusOf(db.sql, stoppable)) === "cancelled", { what: "stoppable to be cancelled" });
  await eventually(async () => (await statusOf(db.sql, late)) === "completed", { what: "late to complete" });

  const points = await collect();
  const counts = (task: string) =>
    Object.fromEntries(["started", "completed", "failed", "retried", "cancelled"].map((kind) => [kind, countOf(points, `pgconductor.executions.${kind}`, task)]));
  expect(counts("flaky")).toEqual({ started: 2, completed: 1, failed: 0, retried: 1, cancelled: 0 });
  expect(counts("doomed")).toEqual({ started: 1, completed: 0, failed: 1, retried: 0, cancelled: 0 });
  expect(counts("stoppable")).toEqual({ started: 1, completed: 0, failed: 0, retried: 0, cancelled: 1 });
  expect(counts("late")).toEqual({ started: 1, completed: 1, failed: 0, retried: 0, cancelled: 0 });
  expect(counts("held")).toEqual({ started: 0, completed: 0, failed: 0, retried: 0, cancelled: 0 });

  // Attempt duration: one series per outcome, one observation per attempt.
  const flakyDurations = (points.get("pgconductor.attempt.duration") ?? []).filter((p) => p.attributes["pgconductor.task"] === "flaky");
  expect(flakyDurations.map((p) => [p.attributes["pgconductor.outcome"], (p.value as { count: number }).count]).sort()).toEqual([["completed", 1], ["failed", 1]]);
  expect(histogramOf(points, "pgconductor.attempt.duration", "stoppable").map((h) => h.count)).toEqual([1]);

  const [lateWait] = histogramOf(points, "pgconductor.queue.wait", "late");
  expect(lateWait.count).toBe(1);
  expect(lateWait.min).toBeGreaterThanOrEqual(60);
  expect(lateWait.min).toBeLessThan(60 + 60); // not measured from some other origin (the epoch, the invoke)
  expect(histogramOf(points, "pgconductor.queue.wait", "flaky")[0].count).toBe(2);

  const depth = (points.get("pgconductor.queue.depth") ?? []).map((p) => [p.attributes["pgconductor.queue"], p.value]);
  expect(depth).toContainEqual(["held", 3]);
  expect(depth).toContainEqual(["default", 0]);

  // A failed attempt's span has the error status and the exception; a retried one says it was not final.
  const [doomedSpan] = attemptSpans("doomed");
  expect(doomedSpan.status).toMatchObject({ code: 2, message: "never works" });
  expect(doomedSpan.attributes).toMatchObject({ "pgconductor.outcome": "failed", "pgconductor.final": true });
  expect(doomedSpan.events.map((e) => e.name)).toContain("exception");
  const flakySpans = attemptSpans("flaky").map((s) => [s.attributes["pgconductor.attempt"], s.attributes["pgconductor.outcome"], s.attributes["pgconductor.final"]]);
  expect(flakySpans.sort()).toEqual([[1, "failed", false], [2, "completed", undefined]]);
  expect(attemptSpans("stoppable").map((s) => s.attributes["pgconductor.outcome"])).toEqual(["cancelled"]);

  await conductor.resume({ queue: "held" });
  await eventually(async () => (await Promise.all(heldIds.map((id) => statusOf(db.sql, id)))).every((s) => s === "completed"), { what: "held work to run once resumed" });
  const after = await collect();
  expect((after.get("pgconductor.queue.depth") ?? []).map((p) => [p.attributes["pgconductor.queue"], p.value])).toContainEqual(["held", 0]);
});
