/**
 * What every system under test offers the workloads: one worker on one queue, bulk and single
 * enqueue, and a count of jobs the database still considers unfinished.
 */

/** The payload of every benchmark job. */
export interface BenchJob {
  seq: number;
}

/**
 * Called once per job as the handler starts. `ctx` is whatever the system hands its handlers
 * (pgconductor-js: the task context with `step`); workloads that need it run on that system only.
 */
export type JobHandler = (job: BenchJob, ctx: unknown) => unknown;

export interface QueueSystem {
  /** Installs its schema if needed and starts one worker that calls `handler` for every job. */
  start(handler: JobHandler): Promise<void>;
  /** Enqueues all jobs in one statement. */
  enqueueBatch(jobs: readonly BenchJob[]): Promise<void>;
  enqueueOne(job: BenchJob): Promise<void>;
  /** Enqueues one job that must not start before `runAt`. */
  enqueueAt(job: BenchJob, runAt: Date): Promise<void>;
  /** Jobs enqueued and not yet recorded as finished in the database. */
  unfinished(): Promise<number>;
  /** Stops the worker and closes every connection it opened. */
  stop(): Promise<void>;
}

export interface SystemFactory {
  /** Stable key, used by workloads to pick systems and by ratio columns to pick the baseline. */
  readonly key: string;
  /** Row label in the tables: the name and a short form of the configuration, so it stands beside the figures. */
  readonly label: string;
  /** One line saying how it is configured (printed under the tables). */
  readonly settings: string;
  /** Why it cannot run here, or null when it can. */
  unavailable(): string | null;
  /** A polling system's interval: latency jobs are then spread over it, so no single phase of the poll is sampled. */
  readonly pollIntervalMs?: number;
  /** Polling systems take too long per latency sample: at most this many per round. */
  readonly latencySampleCap?: number;
  /** A variant that only means something in these workloads (default: every workload that takes the system). */
  readonly onlyWorkloads?: readonly string[];
  /** A fresh adapter on the system's own database. */
  create(databaseUrl: string): QueueSystem;
}
