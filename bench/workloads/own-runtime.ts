/**
 * Helpers for workloads that build their own Conductor and Orchestrator on the system's database
 * (tasks the common adapter cannot express: limits, batches). Each round starts from an empty
 * executions table and times one bulk batch until the database shows the measured jobs finished.
 */
import postgres from "postgres";
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import type { BenchJob } from "../systems/system";
import type { Row } from "./workload";

export type OwnTasks = [
  DefineTask<{ name: "bench-free"; payload: BenchJob }>,
  DefineTask<{ name: "bench-limited"; payload: BenchJob }>,
  DefineTask<{ name: "bench-batch"; payload: BenchJob; returns: number }>,
];

export function ownConductor(databaseUrl: string) {
  return Conductor.create({
    sql: postgres(databaseUrl, { onnotice: () => {} }),
    tasks: TaskSchemas.fromTypes<OwnTasks>(),
    logger: silentLogger,
  });
}
export type OwnConductor = ReturnType<typeof ownConductor>;

/** Leaves the database as the other workloads expect it: no executions of ours left behind. */
export async function cleanUpOwn(conductor: OwnConductor): Promise<void> {
  await conductor.sql`delete from pgconductor.executions where task_key like 'bench-%'`;
  await conductor.sql.end({ timeout: 5 });
}

export async function startOwn(conductor: OwnConductor, concurrency: number): Promise<Orchestrator> {
  await conductor.ensureInstalled();
  await conductor.sql`delete from pgconductor.executions`;
  const orchestrator = Orchestrator.create({ conductor, defaultWorker: { concurrency }, handleSignals: false });
  await orchestrator.start();
  return orchestrator;
}

/** Waits until no execution of `task` is unfinished (polled every few ms, as the other workloads do). */
export async function untilFinished(conductor: OwnConductor, task: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await conductor.sql<{ n: number }[]>`
      select count(*)::int as n from pgconductor.executions where task_key = ${task} and status in ('pending', 'running')`;
    if (row.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row.n} ${task} jobs still unfinished after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

export interface Timing {
  jobs: number;
  runMs: number;
}

/** Best round (interference only ever slows a round down), in the columns of the throughput tables. */
export function summarizeRate(samples: Timing[]): Row {
  const rate = (t: Timing) => (t.jobs / t.runMs) * 1000;
  const best = samples.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  return {
    figures: [rate(best).toFixed(0), (best.runMs / 1000).toFixed(2), samples.map((t) => rate(t).toFixed(0)).join(" / ")],
    primary: rate(best),
  };
}
