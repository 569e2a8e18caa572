/**
 * pgconductor-js only: does flow control slow down the unlimited task sharing its queue? Two rows:
 * "solo" runs N no-op jobs of an unlimited task on a worker of 10 slots; "beside limits" runs the
 * same N while older backlogs of a per-key limited task (8 keys, keyConcurrency 2 under a task
 * concurrency of 4, 20 ms each) and a rate-limited task (20 starts per second) wait in the same
 * queue. That worker gets 10 + 4 + 2 slots, so the unlimited task keeps its 10 and the ratio shows
 * what the limited claim costs it. Goal: at least 0.9.
 */
import postgres from "postgres";
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import type { BenchJob } from "../systems/system";
import { summarizeRate, untilFinished, type OwnConductor, type Timing } from "./own-runtime";
import type { Workload, WorkloadEnv } from "./workload";

type FlowTasks = [
  DefineTask<{ name: "bench-free"; payload: BenchJob }>,
  DefineTask<{ name: "bench-keyed"; payload: BenchJob }>,
  DefineTask<{ name: "bench-rated"; payload: BenchJob }>,
];

const KEYS = 8;

async function runRound(env: WorkloadEnv, withLimits: boolean): Promise<Timing> {
  const conductor = Conductor.create({ sql: postgres(env.databaseUrl, { onnotice: () => {} }), tasks: TaskSchemas.fromTypes<FlowTasks>(), logger: silentLogger });
  conductor.createTask({ name: "bench-free" }, { invocable: true }, async () => {});
  conductor.createTask({ name: "bench-keyed", concurrency: 4, keyConcurrency: 2 }, { invocable: true }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  conductor.createTask({ name: "bench-rated", rateLimit: { limit: 20, periodSeconds: 1 } }, { invocable: true }, async () => {});
  await conductor.ensureInstalled();
  await conductor.sql`delete from pgconductor.executions`;
  const orchestrator = Orchestrator.create({ conductor, defaultWorker: { concurrency: withLimits ? 16 : 10 }, handleSignals: false });
  await orchestrator.start();
  const wait = (task: string) => untilFinished(conductor as unknown as OwnConductor, task);
  try {
    const n = env.settings.jobs;
    await conductor.invoke({ name: "bench-free" }, Array.from({ length: Math.min(300, n) }, (_, seq) => ({ payload: { seq } })));
    await wait("bench-free");
    if (withLimits) {
      // Older than the free jobs, so ahead of them in the queue.
      await conductor.invoke({ name: "bench-keyed" }, Array.from({ length: Math.ceil(n / 10) }, (_, seq) => ({ payload: { seq }, concurrency_key: `tenant-${seq % KEYS}` })));
      await conductor.invoke({ name: "bench-rated" }, Array.from({ length: Math.ceil(n / 10) }, (_, seq) => ({ payload: { seq } })));
    }
    await conductor.invoke({ name: "bench-free" }, Array.from({ length: n }, (_, seq) => ({ payload: { seq } })));
    const t0 = performance.now();
    await wait("bench-free");
    return { jobs: n, runMs: performance.now() - t0 };
  } finally {
    await orchestrator.stop();
    await conductor.sql`delete from pgconductor.executions where task_key like 'bench-%'`;
    await conductor.sql.end({ timeout: 5 });
  }
}

const common = {
  systems: ["pgconductor"],
  columns: ["jobs/s", "run s", "jobs/s each round"],
  summarize: summarizeRate,
} as const;

export const flowSolo: Workload<Timing> = {
  ...common,
  key: "flow-solo",
  title: "Throughput: unlimited no-op jobs alone, own runtime (baseline of the next table)",
  description: "One queue, one worker of 10 slots, N no-op jobs of an unlimited task; jobs/s = N / (time until all are finished).",
  ratio: { header: "vs our no-op", system: "pgconductor", workload: "throughput" },
  run: (env) => runRound(env, false),
};

export const flowNeighbours: Workload<Timing> = {
  ...common,
  key: "flow-neighbours",
  title: "Throughput: unlimited no-op jobs beside a per-key limited and a rate-limited task (pgconductor-js only)",
  description:
    `The same N no-op jobs, enqueued after N/10 jobs of a task with keyConcurrency 2 over ${KEYS} keys (task concurrency 4, 50 ms each) ` +
    "and N/10 jobs of a task limited to 20 starts per second, all in one queue; the worker has 10 + 4 + 2 slots. " +
    "The ratio is to the solo row above (goal >= 0.9).",
  ratio: { header: "vs solo", system: "pgconductor", workload: "flow-solo" },
  run: (env) => runRound(env, true),
};
