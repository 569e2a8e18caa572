/**
 * pgconductor-js only: 1, 2 and 4 orchestrator processes (child processes, concurrency 10 each)
 * sharing one backlog. All children are started and idle first; then 2×N jobs are enqueued in one
 * statement and jobs/s = 2N / (time until the database shows all finished). The per-process
 * handled counts must add up to the backlog (none lost, none run twice), or the round fails. On
 * a 2-core machine more processes mostly contend for the same cores: this shows that they
 * share the backlog without duplicates and how much the claim contention costs.
 */
import postgres from "postgres";
import { Conductor, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { CHILD_TASK, startChild } from "./children";
import type { Row, Workload, WorkloadEnv } from "./workload";

const COUNTS = [1, 2, 4] as const;
const CONCURRENCY = 10;

type Tasks = [DefineTask<{ name: typeof CHILD_TASK; payload: { seq: number } }>];

interface ProcessSample {
  processes: number;
  jobs: number;
  runMs: number;
  shares: number[];
}

async function untilFinished(sql: postgres.Sql, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pgconductor.executions where task_key = ${CHILD_TASK} and status in ('pending', 'running')`;
    if (row.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row.n} ${CHILD_TASK} jobs unfinished after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

async function oneRun(databaseUrl: string, count: number, jobs: number): Promise<ProcessSample> {
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 2 });
  const conductor = Conductor.create({ sql, tasks: TaskSchemas.fromTypes<Tasks>(), logger: silentLogger });
  await conductor.ensureInstalled();
  await sql`delete from pgconductor.executions where task_key = ${CHILD_TASK}`;
  const children = await Promise.all(
    Array.from({ length: count }, () => startChild({ databaseUrl, concurrency: CONCURRENCY, checkpointEvery: 0 })),
  );
  try {
    await conductor.invoke({ name: CHILD_TASK }, Array.from({ length: jobs }, (_, seq) => ({ payload: { seq } })));
    const t0 = performance.now();
    await untilFinished(sql);
    const runMs = performance.now() - t0;
    const shares = await Promise.all(children.splice(0).map((child) => child.stop()));
    const handled = shares.reduce((a, b) => a + b, 0);
    if (handled !== jobs) throw new Error(`${count} processes handled ${handled} jobs of ${jobs}`);
    return { processes: count, jobs, runMs, shares };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await sql`delete from pgconductor.executions where task_key = ${CHILD_TASK}`;
    await sql.end({ timeout: 5 });
  }
}

export const processes: Workload<ProcessSample[]> = {
  key: "processes",
  title: "Throughput: 1, 2 and 4 orchestrator processes on one backlog (pgconductor-js only)",
  description:
    `Child processes with one Orchestrator each (concurrency ${CONCURRENCY}), all idle before 2×N no-op jobs are enqueued in one ` +
    "statement; jobs/s = 2N / (time until all are finished). Handled counts per process must add up to 2N. Best of the rounds.",
  systems: ["pgconductor"],
  columns: ["jobs/s", "run s", "jobs per process", "vs 1 process"],
  async run(env: WorkloadEnv): Promise<ProcessSample[]> {
    const samples: ProcessSample[] = [];
    for (const count of COUNTS) {
      env.progress(`  ${count} process(es)`);
      samples.push(await oneRun(env.databaseUrl, count, env.settings.jobs * 2));
    }
    return samples;
  },
  summarize(rounds: ProcessSample[][]): Row[] {
    const rate = (s: ProcessSample) => (s.jobs / s.runMs) * 1000;
    const best = COUNTS.map((count) =>
      rounds.map((round) => round.find((s) => s.processes === count)!).reduce((a, b) => (rate(b) > rate(a) ? b : a)),
    );
    return best.map((s) => ({
      label: `pgconductor-js × ${s.processes} process${s.processes > 1 ? "es" : ""}`,
      figures: [rate(s).toFixed(0), (s.runMs / 1000).toFixed(2), s.shares.join(" / "), (rate(s) / rate(best[0])).toFixed(2)],
      primary: rate(s),
    }));
  },
};
