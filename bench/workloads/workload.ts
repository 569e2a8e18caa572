/** The shape of a workload: what it runs on one system for one round, and how rounds become a table row. */
import type { QueueSystem, SystemFactory } from "../systems/system";

export interface BenchSettings {
  /** Jobs per throughput batch (BENCH_JOBS). */
  jobs: number;
  /** Latency samples per round (BENCH_LATENCY_JOBS), before a system's own cap. */
  latencyJobs: number;
  /** Every workload runs this many rounds per system, the system order reversed each round (BENCH_ROUNDS). */
  rounds: number;
}

export interface WorkloadEnv {
  /** A fresh adapter, not started: `run` starts it and must stop it. */
  system: QueueSystem;
  factory: SystemFactory;
  /** The system's own database on the shared server (a workload may open its own connections to it). */
  databaseUrl: string;
  settings: BenchSettings;
  progress(line: string): void;
}

/** One table row: formatted figures (one per column) and the number the ratio column divides. */
export interface Row {
  figures: string[];
  primary: number;
}

export interface Workload<Sample = any> {
  key: string;
  title: string;
  /** Printed under the title: what is measured and how. */
  description: string;
  /** Keys of the systems it runs on; every system when omitted. */
  systems?: readonly string[];
  columns: readonly string[];
  /** The last column: this row's primary figure divided by the baseline row's (of `workload`, default this one). */
  ratio: { header: string; system: string; workload?: string };
  /** One round on one system. */
  run(env: WorkloadEnv): Promise<Sample>;
  summarize(samples: Sample[]): Row;
}
