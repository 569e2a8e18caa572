/**
 * pgconductor-js only: does a task with a concurrency limit slow down the unlimited task sharing
 * its queue? N no-op jobs of an unlimited task run while an older backlog of N/10 jobs of a task
 * limited to 2 (50 ms each, a rate-limited API call) waits in the same queue. The worker gets
 * 10 + 2 slots, so the unlimited task has the same 10 slots as in the plain no-op workload and the
 * ratio shows only what the limit costs the claim. Goal: at least 0.9 of our no-op throughput.
 */
import { cleanUpOwn, ownConductor, startOwn, summarizeRate, untilFinished, type Timing } from "./own-runtime";
import type { Workload, WorkloadEnv } from "./workload";

const LIMIT = 2;
const CONCURRENCY = 10 + LIMIT;

export const limitedNeighbour: Workload<Timing> = {
  key: "limited-neighbour",
  title: "Throughput: unlimited no-op jobs beside a task limited to 2 (pgconductor-js only)",
  description:
    `One queue, one worker (concurrency ${CONCURRENCY} = 10 + the limit): N no-op jobs of an unlimited task enqueued after an older backlog ` +
    `of N/10 jobs of a task with \`concurrency: ${LIMIT}\` (50 ms each); jobs/s = N / (time until every unlimited job is finished). ` +
    "The ratio is to our own no-op throughput above (goal >= 0.9).",
  systems: ["pgconductor"],
  columns: ["jobs/s", "run s", "jobs/s each round"],
  ratio: { header: "vs our no-op", system: "pgconductor", workload: "throughput" },
  async run(env: WorkloadEnv): Promise<Timing> {
    const conductor = ownConductor(env.databaseUrl);
    conductor.createTask({ name: "bench-free" }, { invocable: true }, async () => {});
    conductor.createTask({ name: "bench-limited", concurrency: LIMIT }, { invocable: true }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    const orchestrator = await startOwn(conductor, CONCURRENCY);
    try {
      const n = env.settings.jobs;
      // Warm-up on the same worker.
      await conductor.invoke({ name: "bench-free" }, Array.from({ length: Math.min(300, n) }, (_, seq) => ({ payload: { seq } })));
      await untilFinished(conductor, "bench-free");
      // The limited backlog first: it is older, so it is ahead of the free jobs in the queue.
      await conductor.invoke({ name: "bench-limited" }, Array.from({ length: Math.ceil(n / 10) }, (_, seq) => ({ payload: { seq } })));
      await conductor.invoke({ name: "bench-free" }, Array.from({ length: n }, (_, seq) => ({ payload: { seq } })));
      const t0 = performance.now();
      await untilFinished(conductor, "bench-free");
      return { jobs: n, runMs: performance.now() - t0 };
    } finally {
      await orchestrator.stop();
      await cleanUpOwn(conductor);
    }
  },
  summarize: summarizeRate,
};
