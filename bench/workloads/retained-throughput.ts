/**
 * pgconductor-js only: the no-op throughput with a large table. Before the first round the
 * executions table gets R completed executions of the measured task (one INSERT … SELECT
 * generate_series, then ANALYZE, so the planner knows the size), as the default 7-day retention
 * keeps them in a real deployment. R is 1,000,000 with BENCH_FULL=1, else 100,000. The ratio is to
 * graphile-worker fast's no-op throughput (graphile deletes finished jobs, so its table stays small).
 * Goal: at least 0.9. Afterwards the table is emptied for the workloads that follow.
 */
import postgres from "postgres";
import { Countdown, timeBatch, type BatchTiming } from "./batch-run";
import { summarizeRate } from "./own-runtime";
import type { BenchSettings, Workload, WorkloadEnv } from "./workload";

const WARM_UP_JOBS = 300;
/** Filling a million rows takes seconds to a minute; past this the workload fails instead of hanging the bench. */
const FILL_TIMEOUT_MS = 240_000;

export function retainedRows(settings: BenchSettings): number {
  return settings.full ? 1_000_000 : 100_000;
}

async function fillRetained(databaseUrl: string, rows: number, progress: (line: string) => void): Promise<void> {
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1, connection: { statement_timeout: FILL_TIMEOUT_MS } });
  try {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from pgconductor.executions where status = 'completed'`;
    if (n >= rows) return;
    const began = Date.now();
    // Spread over the last 6 days, one attempt each, as finished no-op jobs leave them.
    await sql`
      insert into pgconductor.executions
        (task_key, queue, payload, status, attempts, run_at, created_at, started_at, finished_at)
      select 'bench', 'default', jsonb_build_object('seq', g), 'completed', 1, t, t, t, t + interval '2 ms'
      from generate_series(1, ${rows - n}::int) g,
           lateral (select now() - interval '6 days' + g * (interval '6 days' / ${rows}::int)) as x(t)`;
    await sql`analyze pgconductor.executions`;
    progress(`  ${rows - n} retained executions written and analyzed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export const retainedThroughput: Workload<BatchTiming> = {
  key: "retained-throughput",
  title: "Throughput: no-op jobs with completed executions retained in the table (pgconductor-js only)",
  description:
    "As the no-op throughput, after R completed executions of the same task were written into pgconductor.executions " +
    "(one INSERT … SELECT generate_series) and ANALYZE ran; R = 1,000,000 with BENCH_FULL=1, else 100,000. " +
    "The ratio is to graphile-worker fast's no-op throughput above (goal >= 0.9).",
  systems: ["pgconductor"],
  columns: ["retained", "jobs/s", "run s", "enqueue ms", "jobs/s each round"],
  ratio: { header: "vs graphile fast", system: "graphile-fast", workload: "throughput" },
  async run(env: WorkloadEnv): Promise<BatchTiming & { retained: number }> {
    const countdown = new Countdown();
    await env.system.start(() => countdown.hit());
    try {
      const retained = retainedRows(env.settings);
      await fillRetained(env.databaseUrl, retained, env.progress);
      await timeBatch(env.system, countdown, Math.min(WARM_UP_JOBS, env.settings.jobs), 1_000_000);
      return { ...(await timeBatch(env.system, countdown, env.settings.jobs, 0)), retained };
    } finally {
      await env.system.stop();
    }
  },
  summarize(samples: (BatchTiming & { retained: number })[]) {
    const row = summarizeRate(samples);
    const best = samples.reduce((a, b) => (b.jobs / b.runMs > a.jobs / a.runMs ? b : a));
    return { ...row, figures: [best.retained.toLocaleString("en-US"), row.figures[0], row.figures[1], best.enqueueMs.toFixed(0), row.figures[2]] };
  },
  async cleanUp(databaseUrl: string): Promise<void> {
    const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
    try {
      await sql`truncate pgconductor.executions cascade`;
      await sql`analyze pgconductor.executions`;
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
};
