/**
 * pgconductor-js only: a row inserted into a user table -> the handler of the task whose table
 * trigger matches it starts. The path is the WAL: logical decoding, the elected consumer writing the
 * execution (one statement per burst), its NOTIFY, the worker's claim. One insert at a time, the next
 * after the previous execution finished plus a random 0-10 ms pause. Goal: p50 under 5 ms.
 */
import postgres from "postgres";
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { dropPlumbingIfUnused, slotNameFor } from "../../src/db/table-triggers";
import { percentile, summarize } from "../stats";
import { delay, withTimeout } from "./batch-run";
import type { Row, Workload } from "./workload";

const WARM_UP_ROWS = 10;
const TASK = "bench-row-change";

type Tasks = [DefineTask<{ name: typeof TASK }>];

export const rowChangeLatency: Workload<number[]> = {
  key: "row-change-latency",
  title: "Latency: row insert -> handler start, table trigger over logical replication (pgconductor-js only)",
  description:
    "Rows inserted one after another into a plain table (each after the previous execution finished); ms from just before " +
    "the INSERT to the handler's first line of the task whose { schema, table, operation: \"insert\" } trigger matched. " +
    "The ratio is to our own enqueue latency above.",
  systems: ["pgconductor"],
  columns: ["p50 ms", "p95 ms", "p99 ms", "samples", "p50 each round"],
  ratio: { header: "vs our invoke", system: "pgconductor", workload: "latency" },
  run: (env) => measureRowChangeLatency(env.databaseUrl, env.settings.latencyJobs),
  summarize(rounds: number[][]): Row {
    const s = summarize(rounds.flat());
    const perRound = rounds.filter((round) => round.length > 0).map((round) => percentile(round, 50).toFixed(1));
    return { figures: [s.p50.toFixed(1), s.p95.toFixed(1), s.p99.toFixed(1), String(s.count), perRound.join(" / ")], primary: s.p50 };
  },
};

/** Samples in ms; leaves no table, trigger, slot or execution behind. */
export async function measureRowChangeLatency(databaseUrl: string, samples: number): Promise<number[]> {
  // The bench server runs with synchronous_commit=off; a walsender only sends flushed WAL, so an
  // asynchronous commit would reach the slot after the WAL writer's next flush (up to ~200 ms later).
  // Ordinary servers commit synchronously; so does this workload's writer.
  const sql = postgres(databaseUrl, { onnotice: () => {}, connection: { synchronous_commit: "on" } });
  const conductor = Conductor.create({ sql, tasks: TaskSchemas.fromTypes<Tasks>(), logger: silentLogger });
  await sql`create table if not exists bench_row_changes (id bigint primary key, label text not null)`;
  await sql`truncate bench_row_changes`;
  const waiting = new Map<number, (at: number) => void>();
  const task = conductor.createTask(
    { name: TASK },
    { schema: "public", table: "bench_row_changes", operation: "insert", columns: "id" },
    async (event) => {
      const at = performance.now();
      waiting.get(Number(event.payload.new.id))?.(at);
    },
  );
  const orchestrator = Orchestrator.create({ conductor, tasks: [task], handleSignals: false });
  await orchestrator.start();
  try {
    const measured: number[] = [];
    for (let id = 1; id <= WARM_UP_ROWS + samples; id++) {
      const started = new Promise<number>((resolve) => waiting.set(id, resolve));
      const before = performance.now();
      await sql`insert into bench_row_changes (id, label) values (${id}, 'row')`;
      // The first rows also wait for this orchestrator to win the consumer election.
      const at = await withTimeout(started, 30_000, `row ${id} to reach its handler`);
      waiting.delete(id);
      if (id > WARM_UP_ROWS) measured.push(at - before);
      await untilFinished(sql);
      await delay(Math.random() * 10);
    }
    return measured;
  } finally {
    await orchestrator.stop();
    await sql`delete from pgconductor.table_triggers where task_key = ${TASK}`;
    await dropPlumbingIfUnused(sql, await slotNameFor(sql));
    await sql`drop table if exists bench_row_changes`;
    await sql`delete from pgconductor.executions where task_key = ${TASK}`;
    await sql.end({ timeout: 5 });
  }
}

async function untilFinished(sql: postgres.Sql): Promise<void> {
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pgconductor.executions where task_key = ${TASK} and status in ('pending', 'running')`;
    if (row.n === 0) return;
    await delay(1);
  }
}
