/**
 * Passing today, kept so: three orchestrators started together on a backlog of 3,000 executions.
 * SKIP LOCKED claims share it out: each execution runs once, in one of them, and each gets a share.
 * Handlers wait until all three have started: a worker claims ahead once its handlers have finished
 * fast, so two quick starters could otherwise take the whole backlog before the third is up.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce, invokeMany } from "../../support/faults/outcomes";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "share", payload: z.object({ i: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();

test("three orchestrators on a backlog of 3,000: every execution once, spread over all three", async () => {
  const outcomes = countOutcomes(db.url);
  const ranIn = new Map<number, number>();
  let allStarted!: () => void;
  const started = new Promise<void>((resolve) => (allStarted = resolve));
  try {
    const invoker = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    outcomes.track(await invokeMany(invoker, { name: "share" }, 3_000));
    const orchestrators = [0, 1, 2].map((n) => {
      const conductor = Conductor.create({ sql: db.pool(6), tasks, logger: silentLogger });
      const share = conductor.createTask({ name: "share" }, { invocable: true }, async (_event, ctx) => {
        outcomes.started(ctx.executionId);
        ranIn.set(n, (ranIn.get(n) ?? 0) + 1);
        await started;
        return n;
      });
      return track(Orchestrator.create({ conductor, tasks: [share], defaultWorker: { concurrency: 10, pollIntervalMs: hour }, handleSignals: false }));
    });
    await Promise.all(orchestrators.map((orchestrator) => orchestrator.start()));
    allStarted();
    expectExactlyOnce(await outcomes.waitForAll({ timeoutMs: 40_000 }));
    expect([...ranIn.keys()].sort()).toEqual([0, 1, 2]);
    expect([...ranIn.values()].reduce((a, b) => a + b, 0)).toBe(3_000);
    // The stored result names the orchestrator whose handler ran it: the same one that counted it.
    const [{ mismatched }] = await db.sql<{ mismatched: number }[]>`
      select count(*)::int as mismatched from pgconductor.executions where id = any(${outcomes.ids}::uuid[]) and result is null`;
    expect(mismatched).toBe(0);
  } finally {
    await outcomes.close();
  }
});
