/**
 * graphile-worker, installed version (0.16.6): LISTEN/NOTIFY on insert; each of the `concurrency`
 * loops fetches one job and completes it in its own statement. The second configuration (a local
 * queue filled in batches plus batched completion) needs the `localQueue` and
 * `completeJobBatchDelay` options, which first appeared in 0.17; on an older version it is skipped
 * rather than run with options that would be silently ignored.
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

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split(".").map((part) => Number.parseInt(part, 10));
  return a > major || (a === major && b >= minor);
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

  /** graphile-worker 0.16 has no bulk add in JavaScript; its SQL `add_jobs` takes an array of job specs. */
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
  label: "graphile-worker",
  settings: `${installedVersion()}, defaults (LISTEN/NOTIFY, one fetch and one completion statement per job), concurrency ${CONCURRENCY}`,
  unavailable: () => null,
  create: (databaseUrl) => new GraphileWorkerSystem(databaseUrl, {}),
};

export const graphileBatched: SystemFactory = {
  key: "graphile-batched",
  label: "graphile-worker (local queue)",
  unavailable: () => {
    const version = installedVersion();
    return atLeast(version, 0, 17)
      ? null
      : `localQueue and completeJobBatchDelay do not exist in graphile-worker ${version} (added in 0.17, which needs a newer Node)`;
  },
  // Not exercised with the installed 0.16.6 (unavailable() skips it); option names from the 0.17 release notes.
  settings: `concurrency ${CONCURRENCY}, localQueue.size ${LOCAL_QUEUE_SIZE}, completeJobBatchDelay ${COMPLETE_BATCH_DELAY_MS} ms`,
  create: (databaseUrl) =>
    new GraphileWorkerSystem(
      databaseUrl,
      { preset: { worker: { localQueue: { size: LOCAL_QUEUE_SIZE }, completeJobBatchDelay: COMPLETE_BATCH_DELAY_MS } } } as Partial<RunnerOptions>,
    ),
};
