/**
 * Issue 11, item 6: a timer armed from a millisecond-rounded run_at could fire before the row was
 * due (or a notification rounded down looked due already); the claim found nothing, the next-run
 * lookup (run_at > now()) missed it too, and the resume waited for the sweep. With the sweep an hour
 * away, 1,000 short sleeps (1–50 ms) must all resume by the timer: any missed wake-up stalls its
 * execution. The sleeps are consecutive within each of two executions, each on a queue of its own,
 * so no other execution's activity can wake a stalled one. Most are 1–5 ms, where the rounding
 * window is widest; every tenth spreads over the whole 1–50 ms.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes } from "../../support/faults/outcomes";

const LANES = 2;
const SLEEPS = 500; // per lane: 1,000 in all
const names = Array.from({ length: LANES }, (_, lane) => `napper-${lane}`);
const tasks = TaskSchemas.fromSchema(names.map((name) => defineTask({ name, payload: z.object({}) })));
const db = useTestDatabase();
const track = trackOrchestrators();

test("1,000 consecutive short sleeps with an hour-long sweep all resume by the timer", async () => {
  const outcomes = countOutcomes(db.url);
  const finished = new Map<string, number>();
  try {
    const conductor = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    const nappers = names.map((name, lane) =>
      conductor.createTask({ name: name as (typeof names)[number], queue: `lane-${lane}` }, { invocable: true }, async (_event, ctx) => {
        outcomes.started(ctx.executionId);
        for (let k = 0; k < SLEEPS; k++) {
          const ms = k % 10 === 0 ? 1 + ((lane * SLEEPS + k) * 37) % 50 : 1 + ((lane + k) % 5);
          await ctx.sleep(`nap-${k}`, ms);
        }
        await ctx.step("finish", async () => finished.set(ctx.executionId, (finished.get(ctx.executionId) ?? 0) + 1));
        return null;
      }),
    );
    const orchestrator = track(Orchestrator.create({ conductor, tasks: nappers, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
    await orchestrator.start();
    for (const name of names) outcomes.track([await conductor.invoke({ name: name as (typeof names)[number] }, {})]);

    const report = await outcomes.waitForAll({ timeoutMs: 45_000 });
    expect(report.counts.completed).toBe(LANES);
    // No attempt failed (a sleep does not count one); each final step ran once. (A sleep that has
    // already elapsed when it is written returns at once, so starts per execution are at most 501.)
    expect(report.retried).toBe(0);
    expect(outcomes.ids.filter((id) => outcomes.startsOf(id) > SLEEPS + 1)).toEqual([]);
    expect(outcomes.ids.map((id) => finished.get(id))).toEqual(outcomes.ids.map(() => 1));
    const [{ sleeps }] = await db.sql<{ sleeps: number }[]>`
      select count(*)::int as sleeps from pgconductor.steps where execution_id = any(${outcomes.ids}::uuid[]) and name like 'sleep:%'`;
    expect(sleeps).toBe(LANES * SLEEPS);
  } finally {
    await outcomes.close();
  }
});
