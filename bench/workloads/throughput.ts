/**
 * Throughput: N jobs enqueued in one bulk statement while the worker is idle, then the time until
 * all have run and are recorded as finished. A warm-up batch runs first on the same worker; the
 * best round counts (interference from other processes only ever slows a round down).
 */
import type { BenchJob } from "../systems/system";
import { Countdown, timeBatch, type BatchTiming } from "./batch-run";
import type { Row, Workload, WorkloadEnv } from "./workload";

const WARM_UP_JOBS = 300;

export function bulkThroughput(options: {
  key: string;
  title: string;
  description: string;
  systems?: readonly string[];
  ratio: NonNullable<Workload["ratio"]>;
  /** The job's body; call `started` as it begins. */
  body: (job: BenchJob, ctx: unknown, started: () => void) => unknown;
}): Workload<BatchTiming> {
  return {
    key: options.key,
    title: options.title,
    description: options.description,
    systems: options.systems,
    columns: ["jobs/s", "run s", "enqueue ms", "jobs/s each round"],
    ratio: options.ratio,
    async run(env: WorkloadEnv): Promise<BatchTiming> {
      const countdown = new Countdown();
      await env.system.start((job, ctx) => options.body(job, ctx, countdown.hit));
      try {
        await timeBatch(env.system, countdown, Math.min(WARM_UP_JOBS, env.settings.jobs), 1_000_000);
        return await timeBatch(env.system, countdown, env.settings.jobs, 0);
      } finally {
        await env.system.stop();
      }
    },
    summarize(samples: BatchTiming[]): Row {
      const rate = (t: BatchTiming) => (t.jobs / t.runMs) * 1000;
      const best = samples.reduce((a, b) => (rate(b) > rate(a) ? b : a));
      return {
        figures: [
          rate(best).toFixed(0),
          (best.runMs / 1000).toFixed(2),
          best.enqueueMs.toFixed(0),
          samples.map((t) => rate(t).toFixed(0)).join(" / "),
        ],
        primary: rate(best),
      };
    },
  };
}

export const throughput = bulkThroughput({
  key: "throughput",
  title: "Throughput: no-op jobs",
  description:
    "N no-op jobs enqueued in one statement to an idle worker (concurrency 10); jobs/s = N / (time from the enqueue's return " +
    "until every handler ran and the database shows all finished). Best of the rounds; a warm-up batch first.",
  ratio: { header: "vs graphile fast", system: "graphile-fast" },
  body: (_job, _ctx, started) => started(),
});
