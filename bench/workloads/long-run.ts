/**
 * pgconductor-js only: a long run in a child process (one Orchestrator, concurrency 10) that keeps
 * every completed execution (as the default retention does), printing the child's RSS and live
 * heap every checkpoint: 300,000 executions with a checkpoint every 50,000 under BENCH_FULL=1, else
 * 30,000 every 10,000. The parent keeps a backlog of at most two enqueue batches (10,000 each).
 * Flat figures mean no leak and no slowdown as the table grows.
 */
import postgres from "postgres";
import { Conductor, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { CHILD_TASK, startChild, type ChildMessage } from "./children";
import type { BenchSettings, Row, Workload, WorkloadEnv } from "./workload";

const BATCH = 10_000;
const CONCURRENCY = 10;

type Tasks = [DefineTask<{ name: typeof CHILD_TASK; payload: { seq: number } }>];

interface Checkpoint {
  handled: number;
  rss: number;
  heap: number;
  /** ms since the first enqueue */
  at: number;
}

function size(settings: BenchSettings): { total: number; every: number } {
  return settings.full ? { total: 300_000, every: 50_000 } : { total: 30_000, every: 10_000 };
}

async function unfinished(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pgconductor.executions where task_key = ${CHILD_TASK} and status in ('pending', 'running')`;
  return row.n;
}

export const longRun: Workload<Checkpoint[]> = {
  key: "long-run",
  title: "Long run: RSS and heap as completed executions pile up (pgconductor-js only)",
  description:
    "One child process, one Orchestrator (concurrency 10), 300,000 no-op executions with BENCH_FULL=1 (else 30,000), enqueued " +
    `${BATCH.toLocaleString("en-US")} at a time while fewer than ${BATCH.toLocaleString("en-US")} are waiting; completed ones stay in the table. ` +
    "At every checkpoint: jobs/s since the previous one, RSS and live heap (after a forced GC) of the child.",
  systems: ["pgconductor"],
  columns: ["handled", "jobs/s since last", "RSS MB", "heap MB"],
  rounds: () => 1,
  async run(env: WorkloadEnv): Promise<Checkpoint[]> {
    const { total, every } = size(env.settings);
    const sql = postgres(env.databaseUrl, { onnotice: () => {}, max: 2 });
    const conductor = Conductor.create({ sql, tasks: TaskSchemas.fromTypes<Tasks>(), logger: silentLogger });
    await conductor.ensureInstalled();
    await sql`delete from pgconductor.executions where task_key = ${CHILD_TASK}`;
    const checkpoints: Checkpoint[] = [];
    let t0 = performance.now();
    const child = await startChild({ databaseUrl: env.databaseUrl, concurrency: CONCURRENCY, checkpointEvery: every }, (message: ChildMessage) => {
      if (message.type !== "checkpoint") return;
      checkpoints.push({ handled: message.handled, rss: message.rss, heap: message.heap, at: performance.now() - t0 });
      env.progress(`  ${message.handled} handled, RSS ${(message.rss / 2 ** 20).toFixed(0)} MB`);
    });
    try {
      t0 = performance.now();
      for (let enqueued = 0; enqueued < total; ) {
        if ((await unfinished(sql)) >= BATCH) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        const n = Math.min(BATCH, total - enqueued);
        await conductor.invoke({ name: CHILD_TASK }, Array.from({ length: n }, (_, i) => ({ payload: { seq: enqueued + i } })));
        enqueued += n;
      }
      const deadline = Date.now() + 600_000;
      while ((await unfinished(sql)) > 0 || checkpoints.length < Math.floor(total / every)) {
        if (Date.now() > deadline) throw new Error("long run did not finish within 10 minutes");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return checkpoints;
    } finally {
      await child.stop();
      await sql`delete from pgconductor.executions where task_key = ${CHILD_TASK}`;
      await sql.end({ timeout: 5 });
    }
  },
  summarize(rounds: Checkpoint[][]): Row[] {
    const checkpoints = rounds[0];
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    return checkpoints.map((c, i) => {
      const previous = i === 0 ? { handled: 0, at: 0 } : checkpoints[i - 1];
      const rate = ((c.handled - previous.handled) / (c.at - previous.at)) * 1000;
      return {
        label: `pgconductor-js @ ${c.handled.toLocaleString("en-US")}`,
        figures: [String(c.handled), rate.toFixed(0), mb(c.rss), mb(c.heap)],
        primary: rate,
      };
    });
  },
};
