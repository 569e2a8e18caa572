/**
 * Delayed jobs: how late does a job with a future run_at start? Jobs are enqueued one at a time,
 * each with its own run_at spread 10 ms apart, starting 1.5 s after the round begins (never less
 * than 200 ms after its own enqueue, so no job is due before it is written). Lateness = handler
 * start (wall clock of this process) minus run_at; the same clock on the same machine as the
 * server's. Goal for ours: p99 <= 50 ms.
 */
import { percentile, summarize } from "../stats";
import { waitUntilFinished, withTimeout } from "./batch-run";
import type { Row, Workload, WorkloadEnv } from "./workload";

const LEAD_MS = 1500;
const SPACING_MS = 10;
const MIN_AHEAD_MS = 200;

function jobsPerRound(latencyJobs: number): number {
  return Math.max(20, Math.min(200, latencyJobs));
}

const wallClock = () => performance.timeOrigin + performance.now();

export const lateness: Workload<number[]> = {
  key: "lateness",
  title: "Delayed jobs: lateness run_at -> handler start, idle worker",
  description:
    `Up to 200 jobs per round, enqueued one by one with run_at ${LEAD_MS / 1000} s ahead and ${SPACING_MS} ms apart; ms from run_at to the ` +
    "handler's first line (this process's wall clock). Percentiles over all rounds. Goal for pgconductor-js: p99 <= 50 ms.",
  columns: ["p50 ms", "p95 ms", "p99 ms", "max ms", "samples", "p99 each round"],
  ratio: { header: "p99 vs graphile fast", system: "graphile-fast" },
  async run(env: WorkloadEnv): Promise<number[]> {
    const n = jobsPerRound(env.settings.latencyJobs);
    const dueAt = new Map<number, number>();
    const late: number[] = [];
    let resolveAll: () => void = () => {};
    const allStarted = new Promise<void>((resolve) => (resolveAll = resolve));
    await env.system.start((job) => {
      const at = wallClock();
      const due = dueAt.get(job.seq);
      if (due === undefined) return;
      late.push(at - due);
      dueAt.delete(job.seq);
      if (late.length === n) resolveAll();
    });
    try {
      const t0 = Date.now() + LEAD_MS;
      for (let seq = 0; seq < n; seq++) {
        const runAt = Math.max(t0 + seq * SPACING_MS, Date.now() + MIN_AHEAD_MS);
        dueAt.set(seq, runAt);
        await env.system.enqueueAt({ seq }, new Date(runAt));
      }
      await withTimeout(allStarted, 60_000, `${n} delayed jobs to start`);
      await waitUntilFinished(env.system);
      return late;
    } finally {
      await env.system.stop();
    }
  },
  summarize(rounds: number[][]): Row {
    const s = summarize(rounds.flat());
    const perRound = rounds.filter((round) => round.length > 0).map((round) => percentile(round, 99).toFixed(1));
    return {
      figures: [s.p50.toFixed(1), s.p95.toFixed(1), s.p99.toFixed(1), s.max.toFixed(1), String(s.count), perRound.join(" / ")],
      primary: s.p99,
    };
  },
};
