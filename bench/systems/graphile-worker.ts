/**
 * graphile-worker 0.18 (runs on Node 20 despite its `engines` field) in two configurations:
 * - defaults: LISTEN/NOTIFY; each of the `concurrency` loops fetches one job and completes it in a
 *   statement of its own;
 * - fast: `preset.worker.localQueue.size` 500 (one fetch locks up to 500 jobs into a local queue that
 *   feeds the loops without a round trip) plus `completeJobBatchDelay` 0 (completions issued in the
 *   same tick share one statement). Option names from its 0.18 types (GraphileConfig.WorkerOptions).
 * The ratios of the bench divide by the fast configuration.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Logger, run, type Runner, type RunnerOptions } from "graphile-worker";
import { Pool } from "pg";
import type { BenchJob, JobHandler, QueueSystem, SystemFactory } from "./system";

const CONCURRENCY = 10;
const LOCAL_QUEUE_SIZE = 500;
const COMPLETE_BATCH_DELAY_MS = 0;

const silent = new Logger(() => () => {});

function installedVersion(): string {
  const main = require.resolve("graphile-worker");
  const manifest = JSON.parse(readFileSync(join(dirname(main), "..", "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

class GraphileWorkerSystem implements QueueSystem {
  private runner: Runner | null = null;
  /** Ours, for bulk enqueue and counting; the runner opens its own default pool. */
  private readonly pool: Pool;

  constructor(
    private readonly databaseUrl: string,
    private readonly extra: Partial<RunnerOptions>,
  ) {
    this.pool = new Pool({ connectionString: databaseUrl, max: 2 });
  }

  async start(handler: JobHandler): Promise<void> {
    this.runner = await run({
      connectionString: this.databaseUrl,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: silent,
      taskList: { bench: async (payload, helpers) => void (await handler(payload as BenchJob, helpers)) },
      ...this.extra,
    });
  }

  /** Its SQL `add_jobs` takes an array of job specs: one statement for the whole batch. */
  async enqueueBatch(jobs: readonly BenchJob[]): Promise<void> {
    const specs = JSON.stringify(jobs.map((payload) => ({ identifier: "bench", payload })));
    await this.pool.query(
      `select count(*) from graphile_worker.add_jobs(
         array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))`,
      [specs],
    );
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.runner!.addJob("bench", job);
  }

  async enqueueAt(job: BenchJob, runAt: Date): Promise<void> {
    await this.runner!.addJob("bench", job, { runAt });
  }

  /** Completed jobs are deleted, so every remaining row is unfinished (nothing fails here). */
  async unfinished(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>("select count(*)::int as n from graphile_worker.jobs");
    return rows[0].n;
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    await this.pool.end();
  }
}

export const graphileDefault: SystemFactory = {
  key: "graphile",
  label: `graphile-worker ${installedVersion()} defaults (concurrency ${CONCURRENCY})`,
  settings: `${installedVersion()}, defaults (LISTEN/NOTIFY, one fetch and one completion statement per job, pollInterval 2 s for future run_at), concurrency ${CONCURRENCY}`,
  unavailable: () => null,
  create: (databaseUrl) => new GraphileWorkerSystem(databaseUrl, {}),
};

export const graphileFast: SystemFactory = {
  key: "graphile-fast",
  label: `graphile-worker ${installedVersion()} fast (concurrency ${CONCURRENCY}, localQueue ${LOCAL_QUEUE_SIZE}, completeJobBatchDelay ${COMPLETE_BATCH_DELAY_MS})`,
  settings:
    `${installedVersion()}, concurrency ${CONCURRENCY}, preset.worker.localQueue.size ${LOCAL_QUEUE_SIZE}, ` +
    `preset.worker.completeJobBatchDelay ${COMPLETE_BATCH_DELAY_MS} ms, other options default`,
  unavailable: () => null,
  create: (databaseUrl) =>
    new GraphileWorkerSystem(databaseUrl, {
      preset: { worker: { localQueue: { size: LOCAL_QUEUE_SIZE }, completeJobBatchDelay: COMPLETE_BATCH_DELAY_MS } },
    }),
};
