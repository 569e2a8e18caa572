/**
 * pgconductor-js only: what metrics, traces and the dashboard's indexes cost the hot path. The same
 * N jobs (one ctx.step each, so the step-span path runs too) on one worker of 10 slots, in four
 * modes interleaved within every round so load from elsewhere on the machine hits them alike:
 *   - "no provider": @opentelemetry/api with nothing registered (what every app gets by default);
 *   - "context manager only": no provider, only the async-hooks context manager an app registers
 *     with the SDK (it makes every promise in the process dearer, ours or not), to tell its share
 *     of the next mode's cost from that of the spans and metrics;
 *   - "SDK registered": a TracerProvider (spans go to an exporter that drops them), a MeterProvider
 *     with a reader, the async-hooks context manager, and every invoke inside an app span, so each
 *     row carries a traceparent and every attempt and step is a span;
 *   - "no 008 indexes": no provider, and the six list/search indexes of migrations 008 and 019 dropped for
 *     the run (recreated after), to show what those indexes cost each insert, claim and completion.
 * Each mode runs REPEATS times per round. Wall-clock jobs/s swings with whatever else the machine
 * runs, so each row also shows this process's CPU time per job (the telemetry calls run here; the
 * least over all runs, since interference only adds) and the WAL PostgreSQL wrote per job (where
 * an index shows, whatever the load; the median), with ratios to the "no provider" row. Two last rows time the telemetry calls a job
 * makes (in a loop, without the database), with no provider and with the SDK, as a share of a
 * job's CPU time with no provider.
 */
import postgres from "postgres";
import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../src/model/logger";
import type { ClaimedExecution } from "../src/db/claim";
import type { Task } from "../src/model/task";
import type { Outcome } from "../src/runtime/run-execution";
import { traceStep } from "../src/runtime/telemetry/attempt";
import { activeTraceparent } from "../src/runtime/telemetry/trace-context";
import { traceAttempt } from "../src/runtime/telemetry/traced-attempt";
import type { BenchJob } from "./systems/system";
import { untilFinished, type OwnConductor } from "./workloads/own-runtime";
import type { Row, Workload, WorkloadEnv } from "./workloads/workload";

type Mode = "no provider" | "context manager only" | "SDK registered" | "no 008 indexes";
const MODES: readonly Mode[] = ["no provider", "context manager only", "SDK registered", "no 008 indexes"];
const REPEATS = 3;

const FINISHED = "where status in ('completed', 'failed', 'cancelled')";
/** The indexes that only the dashboard, list and search read (sql/008_operations.sql as 019 and 022 left them). */
const INDEXES_008 = [
  ["executions_finished_created_idx", `(created_at, id) ${FINISHED}`],
  ["executions_unsuccessful_status_created_idx", "(status, created_at, id) where status in ('failed', 'cancelled')"],
  ["executions_finished_task_created_idx", `(task_key, created_at, id) ${FINISHED}`],
  ["executions_finished_queue_created_idx", `(queue, created_at, id) ${FINISHED}`],
  ["executions_unfinished_created_idx", "(created_at, id) where status in ('pending', 'running')"],
  ["executions_dedupe_key_idx", "(dedupe_key) where dedupe_key is not null"],
] as const;

type Tasks = [DefineTask<{ name: "bench-telemetry"; payload: BenchJob }>];

/** Spans are built and ended as with a real exporter; only the network send is left out. */
const droppingExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

function registerContextManager(): () => Promise<void> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return async () => context.disable();
}

function registerSdk(): () => Promise<void> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(droppingExporter)] });
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    trace.disable();
    metrics.disable();
    context.disable();
  };
}

async function setIndexes(sql: postgres.Sql, present: boolean): Promise<void> {
  for (const [name, definition] of INDEXES_008) {
    if (present) await sql.unsafe(`create index if not exists ${name} on pgconductor.executions ${definition}`);
    else await sql.unsafe(`drop index if exists pgconductor.${name}`);
  }
}

interface Run {
  /** Jobs per second, wall clock (sensitive to load from elsewhere). */
  rate: number;
  /** This process's CPU time (user + system) per job, µs: where the telemetry calls run. */
  cpuUs: number;
  /** WAL written per job, bytes: where an index's cost shows, whatever the load. */
  walBytes: number;
}

async function runMode(env: WorkloadEnv, mode: Mode): Promise<Run> {
  const unregister = mode === "SDK registered" ? registerSdk() : mode === "context manager only" ? registerContextManager() : null;
  const traced = mode === "SDK registered";
  const conductor = Conductor.create({ sql: postgres(env.databaseUrl, { onnotice: () => {} }), tasks: TaskSchemas.fromTypes<Tasks>(), logger: silentLogger });
  // Handlers report when all have run, so the check for "all finished" polls only at the end (its
  // queries would otherwise add CPU time in proportion to the run's length).
  let handled = 0;
  let target = 0;
  let allHandled = () => {};
  conductor.createTask({ name: "bench-telemetry" }, { invocable: true }, async (event, ctx) => {
    await ctx.step("one", () => event.payload.seq);
    if (++handled === target) allHandled();
  });
  await conductor.ensureInstalled();
  await conductor.sql`delete from pgconductor.executions`;
  if (mode === "no 008 indexes") await setIndexes(conductor.sql, false);
  const orchestrator = Orchestrator.create({ conductor, defaultWorker: { concurrency: 10 }, handleSignals: false });
  await orchestrator.start();
  const invoke = (n: number) => {
    const items = Array.from({ length: n }, (_, seq) => ({ payload: { seq } }));
    const call = () => conductor.invoke({ name: "bench-telemetry" }, items);
    return traced ? trace.getTracer("bench").startActiveSpan("bench invoke", (span) => call().finally(() => span.end())) : call();
  };
  const wait = async () => {
    if (handled < target) await new Promise<void>((resolve) => (allHandled = resolve));
    await untilFinished(conductor as unknown as OwnConductor, "bench-telemetry");
  };
  const expectJobs = (n: number) => {
    handled = 0;
    target = n;
  };
  try {
    const warmUp = Math.min(300, env.settings.jobs);
    expectJobs(warmUp);
    await invoke(warmUp);
    await wait();
    const n = env.settings.jobs;
    const [{ lsn: walBefore }] = await conductor.sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
    expectJobs(n);
    const cpuBefore = process.cpuUsage();
    await invoke(n);
    const t0 = performance.now();
    await wait();
    const runMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuBefore);
    const [{ bytes }] = await conductor.sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${walBefore}::pg_lsn)::text as bytes`;
    return { rate: (n / runMs) * 1000, cpuUs: (cpu.user + cpu.system) / n, walBytes: Number(bytes) / n };
  } finally {
    await orchestrator.stop();
    await conductor.sql`delete from pgconductor.executions where task_key like 'bench-%'`;
    if (mode === "no 008 indexes") await setIndexes(conductor.sql, true);
    await conductor.sql.end({ timeout: 5 });
    await unregister?.();
  }
}

/**
 * Nanoseconds that the telemetry calls of one attempt (the invoke's traceparent lookup, the
 * attempt wrapper, one step wrapper) add: the same loop with and without them, best of a few runs
 * each; with no provider, or with the SDK registered (then they make two spans and five records).
 */
async function telemetryCallsNs(withSdk: boolean): Promise<number> {
  const unregister = withSdk ? registerSdk() : null;
  try {
    return await callsNs();
  } finally {
    await unregister?.();
  }
}

async function callsNs(): Promise<number> {
  const execution = { id: "e", queue: "q", attempts: 1, trace_context: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", run_at: new Date(), locked_at: new Date() } as unknown as ClaimedExecution;
  const task = { name: "t", maxAttempts: 3 } as Task;
  const outcome: Outcome = { kind: "complete", id: "e", result: null };
  const run = async () => outcome;
  const step = async () => 1;
  const n = 200_000;
  const loop = async (withTelemetry: boolean) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (withTelemetry) {
        activeTraceparent();
        await traceAttempt(execution, task, run);
        await traceStep("one", step);
      } else {
        await run();
        await step();
      }
    }
    return performance.now() - t0;
  };
  let plain = Infinity;
  let traced = Infinity;
  for (let i = 0; i < 5; i++) {
    plain = Math.min(plain, await loop(false));
    traced = Math.min(traced, await loop(true));
  }
  return (Math.max(0, traced - plain) / n) * 1e6;
}

type Sample = Record<Mode, Run[]> & { callsNs: number; sdkCallsNs: number };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const telemetryCost: Workload<Sample> = {
  key: "telemetry-cost",
  title: "Cost of telemetry and of the dashboard's indexes: one-step jobs (pgconductor-js only)",
  description:
    `N jobs with one ctx.step each, one worker of 10 slots; each mode runs ${REPEATS} times per round, interleaved. ` +
    "no provider: @opentelemetry/api with nothing registered. context manager only: no provider, the async-hooks context manager alone. SDK registered: tracer and meter providers (spans dropped at export), " +
    "async-hooks context, every invoke inside a span (a span per attempt and step, a traceparent on every row). " +
    "no 008 indexes: no provider, the six list/search indexes of migrations 008 and 019 dropped for the run. " +
    "Over all runs of a mode: the best jobs/s (wall clock) and the least CPU time of this process per job (user + system, from invoke to all finished), " +
    "the median WAL bytes per job; ratios to no provider.",
  systems: ["pgconductor"],
  columns: ["best jobs/s", "least CPU µs/job", "WAL bytes/job", "jobs/s of each run"],
  ratio: { header: "CPU vs no provider", system: "pgconductor", workload: "telemetry-cost", secondaryHeader: "WAL vs no provider" },
  async run(env) {
    const sample: Sample = { "no provider": [], "context manager only": [], "SDK registered": [], "no 008 indexes": [],
      callsNs: await telemetryCallsNs(false), sdkCallsNs: await telemetryCallsNs(true) };
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const order = repeat % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) sample[mode].push(await runMode(env, mode));
    }
    return sample;
  },
  summarize(samples): Row[] {
    const rows: Row[] = MODES.map((mode) => {
      const all = samples.flatMap((sample) => sample[mode]);
      // Interference only ever adds time: the best run is the closest to the cost itself.
      const cpu = Math.min(...all.map((r) => r.cpuUs));
      const wal = median(all.map((r) => r.walBytes));
      return {
        label: `pgconductor-js: ${mode}`,
        figures: [Math.max(...all.map((r) => r.rate)).toFixed(0), cpu.toFixed(0), wal.toFixed(0), all.map((r) => r.rate.toFixed(0)).join(" / ")],
        primary: cpu,
        secondary: wal,
      };
    });
    // The calls alone, against one job's CPU time with no provider (primary 0: not a run to compare).
    for (const [label, key] of [["no provider", "callsNs"], ["SDK registered", "sdkCallsNs"]] as const) {
      const ns = Math.min(...samples.map((sample) => sample[key]));
      rows.push({
        label: `${label}: its telemetry calls alone`,
        figures: [`${ns.toFixed(0)} ns/job`, `${((ns / 1000 / rows[0].primary) * 100).toFixed(2)} %`, "-", "-"],
        primary: 0,
      });
    }
    return rows;
  },
};
