/**
 * Latency: one job at a time to an idle worker; the time from just before the enqueue call to the
 * start of its handler, in this process (performance.now()). After each job the next waits until
 * the database shows it finished, plus a random pause (0-10 ms, or up to a polling system's
 * interval) so that arrivals do not lock onto one phase of a poll loop.
 */
import { percentile, summarize } from "../stats";
import { delay, waitUntilFinished, withTimeout } from "./batch-run";
import type { Row, Workload, WorkloadEnv } from "./workload";

const WARM_UP_JOBS = 10;

export const latency: Workload<number[]> = {
  key: "latency",
  title: "Latency: enqueue -> handler start, idle worker",
  description:
    "Jobs enqueued one after another (each after the previous finished); ms from just before the enqueue call to the " +
    "handler's first line. Percentiles over the samples of all rounds, after a warm-up of a few jobs.",
  columns: ["p50 ms", "p95 ms", "p99 ms", "samples", "p50 each round"],
  ratio: { header: "p50 vs graphile fast", system: "graphile-fast", secondaryHeader: "p99 vs graphile fast" },
  async run(env: WorkloadEnv): Promise<number[]> {
    const waiting = new Map<number, (at: number) => void>();
    await env.system.start((job) => {
      const at = performance.now();
      waiting.get(job.seq)?.(at);
    });
    try {
      const samples = Math.min(env.settings.latencyJobs, env.factory.latencySampleCap ?? Infinity);
      const measured: number[] = [];
      for (let seq = 0; seq < WARM_UP_JOBS + samples; seq++) {
        const started = new Promise<number>((resolve) => waiting.set(seq, resolve));
        const before = performance.now();
        await env.system.enqueueOne({ seq });
        const at = await withTimeout(started, 30_000, `job ${seq} to start`);
        waiting.delete(seq);
        if (seq >= WARM_UP_JOBS) measured.push(at - before);
        await waitUntilFinished(env.system);
        await delay(Math.random() * (env.factory.pollIntervalMs ?? 10));
      }
      return measured;
    } finally {
      await env.system.stop();
    }
  },
  summarize(rounds: number[][]): Row {
    const all = rounds.flat();
    const s = summarize(all);
    const perRound = rounds.filter((round) => round.length > 0).map((round) => percentile(round, 50).toFixed(1));
    return {
      figures: [s.p50.toFixed(1), s.p95.toFixed(1), s.p99.toFixed(1), String(s.count), perRound.join(" / ")],
      primary: s.p50,
      secondary: s.p99,
    };
  },
};
