/** pgconductor-js only: the no-op throughput run again, with two durable steps in every job. */
import { bulkThroughput } from "./throughput";

interface StepContext {
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
}

export const stepThroughput = bulkThroughput({
  key: "step-throughput",
  title: "Throughput: two ctx.step calls per job (pgconductor-js only)",
  description:
    "As the no-op throughput, but each job runs `ctx.step` twice (each stores its result: one write per step). " +
    "The ratio is to our own no-op throughput above.",
  systems: ["pgconductor"],
  ratio: { header: "vs our no-op", system: "pgconductor", workload: "throughput" },
  body: async (job, ctx, started) => {
    started();
    const { step } = ctx as StepContext;
    await step("first", () => job.seq);
    await step("second", () => job.seq + 1);
  },
});
