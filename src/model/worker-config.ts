import type { Task } from "./task";
import { DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_WORKER_CONCURRENCY } from "./defaults";

export interface WorkerConfig {
  /** Handlers running at once in this worker (default 10). */
  concurrency?: number;
  /** Safety sweep: how often to look for work whose notification was lost (default 10 000 ms). */
  pollIntervalMs?: number;
  /** The longest a finished result waits before it is written (default 0: as soon as no write is in flight). */
  flushIntervalMs?: number;
  /** Most executions claimed in one statement (default: concurrency). */
  fetchBatchSize?: number;
}

export type ResolvedWorkerConfig = Required<WorkerConfig>;

export function resolveWorkerConfig(config: WorkerConfig = {}): ResolvedWorkerConfig {
  const concurrency = positiveInteger(config.concurrency, DEFAULT_WORKER_CONCURRENCY, "concurrency");
  return {
    concurrency,
    pollIntervalMs: positiveInteger(config.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, "pollIntervalMs"),
    flushIntervalMs: Math.max(0, config.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS),
    fetchBatchSize: positiveInteger(config.fetchBatchSize, concurrency, "fetchBatchSize"),
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
