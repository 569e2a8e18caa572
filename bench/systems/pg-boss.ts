/**
 * pg-boss 12: it polls (no LISTEN). Each `work()` loop fetches up to `batchSize` jobs, runs the
 * handler with the whole batch (we start every job of it at once), completes them in one statement,
 * and then sleeps for what is left of the polling interval. 12.x has no in-loop concurrency option,
 * so, as its docs suggest for parallelism, we register several `work()` loops on the queue. The
 * interval is its minimum, 0.5 s; the throughput is therefore capped near
 * loops × batchSize / interval and latency is about half the interval.
 */
import { PgBoss } from "pg-boss";
import type { BenchJob, JobHandler, QueueSystem, SystemFactory } from "./system";

const QUEUE = "bench";
const LOOPS = 10;
const BATCH_SIZE = 100;
/** pg-boss rejects anything below 500 ms (its POLICY.MIN_POLLING_INTERVAL_MS). */
export const MIN_POLLING_INTERVAL_SECONDS = 0.5;

class PgBossSystem implements QueueSystem {
  private readonly boss: PgBoss;
  private lastError: unknown = null;

  constructor(databaseUrl: string) {
    this.boss = new PgBoss({ connectionString: databaseUrl });
    // An EventEmitter "error" without a listener would end the process.
    this.boss.on("error", (error: unknown) => (this.lastError = error));
  }

  async start(handler: JobHandler): Promise<void> {
    await this.boss.start();
    if (!(await this.boss.getQueue(QUEUE))) await this.boss.createQueue(QUEUE);
    for (let loop = 0; loop < LOOPS; loop++) {
      await this.boss.work<BenchJob>(
        QUEUE,
        { batchSize: BATCH_SIZE, pollingIntervalSeconds: MIN_POLLING_INTERVAL_SECONDS },
        async (jobs: { data: BenchJob }[]) => {
          await Promise.all(jobs.map(async (job: { data: BenchJob }) => handler(job.data, job)));
        },
      );
    }
  }

  async enqueueBatch(jobs: readonly BenchJob[]): Promise<void> {
    await this.boss.insert(QUEUE, jobs.map((data) => ({ data })));
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.boss.send(QUEUE, job);
  }

  async enqueueAt(job: BenchJob, runAt: Date): Promise<void> {
    await this.boss.send(QUEUE, job, { startAfter: runAt });
  }

  /** created, retry and active (completion is written after the handler, without being awaited). */
  async unfinished(): Promise<number> {
    if (this.lastError) throw this.lastError;
    const stats = await this.boss.getQueueStats(QUEUE);
    return (stats.queuedCount ?? 0) + (stats.activeCount ?? 0);
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, close: true });
  }
}

const VERSION: string = require("pg-boss/package.json").version;

export const pgBoss: SystemFactory = {
  key: "pg-boss",
  label: `pg-boss ${VERSION} (${LOOPS} work() × batchSize ${BATCH_SIZE}, poll ${MIN_POLLING_INTERVAL_SECONDS} s)`,
  settings:
    `${VERSION}, ${LOOPS} work() loops on one queue, each batchSize ${BATCH_SIZE}, pollingIntervalSeconds ` +
    `${MIN_POLLING_INTERVAL_SECONDS} (its minimum: it polls, no LISTEN), other options default`,
  unavailable: () => null,
  pollIntervalMs: MIN_POLLING_INTERVAL_SECONDS * 1000,
  latencySampleCap: 30,
  create: (databaseUrl) => new PgBossSystem(databaseUrl),
};
