/**
 * pgconductor-js only: a batch task (`batch: { size: 50, timeoutMs: 20 }`) whose handler gets 50
 * events at a time and returns one result per event. One worker with concurrency 100 (a batch can
 * only fill up to the worker's free slots). The ratio is to our no-op throughput (one job per call).
 */
import { cleanUpOwn, ownConductor, startOwn, summarizeRate, untilFinished, type Timing } from "./own-runtime";
import type { Workload, WorkloadEnv } from "./workload";

const SIZE = 50;
const CONCURRENCY = 100;

export const batchThroughput: Workload<Timing> = {
  key: "batch-throughput",
  title: `Throughput: batch task, ${SIZE} events per handler call (pgconductor-js only)`,
  description:
    `N jobs of a task with \`batch: { size: ${SIZE}, timeoutMs: 20 }\` enqueued in one statement; worker concurrency ${CONCURRENCY}; ` +
    "the handler returns one result per event. jobs/s = N / (time until all are finished). The ratio is to our own no-op throughput.",
  systems: ["pgconductor"],
  columns: ["jobs/s", "run s", "jobs/s each round"],
  ratio: { header: "vs our no-op", system: "pgconductor", workload: "throughput" },
  async run(env: WorkloadEnv): Promise<Timing> {
    const conductor = ownConductor(env.databaseUrl);
    conductor.createTask({ name: "bench-batch", batch: { size: SIZE, timeoutMs: 20 } }, { invocable: true }, async (events) =>
      events.map((event) => event.payload.seq),
    );
    const orchestrator = await startOwn(conductor, CONCURRENCY);
    try {
      const n = env.settings.jobs;
      await conductor.invoke({ name: "bench-batch" }, Array.from({ length: Math.min(300, n) }, (_, seq) => ({ payload: { seq } })));
      await untilFinished(conductor, "bench-batch");
      await conductor.invoke({ name: "bench-batch" }, Array.from({ length: n }, (_, seq) => ({ payload: { seq } })));
      const t0 = performance.now();
      await untilFinished(conductor, "bench-batch");
      return { jobs: n, runMs: performance.now() - t0 };
    } finally {
      await orchestrator.stop();
      await cleanUpOwn(conductor);
    }
  },
  summarize: summarizeRate,
};
