import type { Task } from "./task";
import { DEFAULT_CLAIM_AHEAD_MS, DEFAULT_FETCH_BATCH_SIZE, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_WORKER_CONCURRENCY } from "./defaults";

export interface WorkerConfig {
  /** Handlers running at once in this worker (default 10). */
  concurrency?: number;
  /** Safety sweep: how often to look for work whose notification was lost (default 10 000 ms). */
  pollIntervalMs?: number;
  /** The longest a finished result waits before it is written (default 0: as soon as no write is in flight). */
  flushIntervalMs?: number;
  /**
   * Most executions one claim takes, and most the worker holds at once: running, plus claimed ahead
   * into its local buffer (default 500, or concurrency when higher).
   */
  fetchBatchSize?: number;
  /**
   * Claim ahead what this worker's slots finish in this many ms at its handlers' recent average
   * duration, up to fetchBatchSize (default 100; 0: claim only free slots). Slow handlers are not hoarded.
   */
  claimAheadMs?: number;
}

export type ResolvedWorkerConfig = Required<WorkerConfig>;

export function resolveWorkerConfig(config: WorkerConfig = {}): ResolvedWorkerConfig {
  const concurrency = positiveInteger(config.concurrency, DEFAULT_WORKER_CONCURRENCY, "concurrency");
  return {
    concurrency,
    pollIntervalMs: positiveInteger(config.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, "pollIntervalMs"),
    flushIntervalMs: Math.max(0, config.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS),
    fetchBatchSize: positiveInteger(config.fetchBatchSize, Math.max(concurrency, DEFAULT_FETCH_BATCH_SIZE), "fetchBatchSize"),
    claimAheadMs: nonNegative(config.claimAheadMs, DEFAULT_CLAIM_AHEAD_MS, "claimAheadMs"),
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Worker config: ${name} must be a positive integer (got ${value})`);
  return value;
}

/** A worker to run: its queue, its tasks, its resolved config (conductor.createWorker returns one). */
export interface WorkerDefinition {
  queue: string;
  tasks: readonly Task[];
  config: ResolvedWorkerConfig;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`Worker config: ${name} must be a number of ms, 0 or more (got ${value})`);
  return value;
}
