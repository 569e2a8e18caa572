/** The shape of a workload: what it runs on one system for one round, and how rounds become a table row. */
import type { QueueSystem, SystemFactory } from "../systems/system";

export interface BenchSettings {
  /** Jobs per throughput batch (BENCH_JOBS). */
  jobs: number;
  /** Latency samples per round (BENCH_LATENCY_JOBS), before a system's own cap. */
  latencyJobs: number;
  /** Every workload runs this many rounds per system, the system order reversed each round (BENCH_ROUNDS). */
  rounds: number;
  /** BENCH_FULL=1: the heavy workloads at full size (1M retained executions, the 300k run). */
  full: boolean;
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
  /** Divided by the baseline row's `secondary` into a second ratio column (latency: p99 beside p50). */
  secondary?: number;
  /** Replaces the system's label (a workload printing several rows for one system). */
  label?: string;
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
  ratio?: { header: string; system: string; workload?: string; secondaryHeader?: string };
  /** Rounds for this workload when not BENCH_ROUNDS (the long runs go once). */
  rounds?(settings: BenchSettings): number;
  /** After all rounds on all systems: leave the database as the next workloads expect it. */
  cleanUp?(databaseUrl: string, systemKey: string): Promise<void>;
  /** One round on one system. */
  run(env: WorkloadEnv): Promise<Sample>;
  summarize(samples: Sample[]): Row | Row[];
}
