/**
 * This process's clock 5 minutes behind, then 5 minutes ahead of the database's (jest fakes only
 * `Date`, advancing in real time, so every Date.now() here is skewed while timers run in real time).
 * The sweep is an hour away, so only push and timers can run the work: a job starts by its
 * notification, a sleep resumes by its timer, and the work of a killed orchestrator is taken over
 * through the rescuer's notification.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { crashTasks, createFourStepTask } from "../../fixtures/crashing-orchestrator";
import { killHard, startFixture } from "../../support/child-process";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "quick", payload: z.object({}) }),
  defineTask({ name: "napper", payload: z.object({}) }),
  ...crashTasks.definitions!.values(),
]);
const db = useTestDatabase();
const track = trackOrchestrators();
const REAL_TIMERS = ["hrtime", "nextTick", "performance", "queueMicrotask", "setImmediate", "clearImmediate", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] as const;

beforeAll(async () => {
  await db.sql`create table if not exists side_effects (execution_id uuid, name text, at timestamptz default clock_timestamp())`;
  await Conductor.create({ sql: db.sql, tasks, logger: silentLogger }).ensureInstalled();
});

describe.each([
  ["behind", -5 * 60_000],
  ["ahead of", 5 * 60_000],
])("the application clock 5 minutes %s the database's", (_label, skewMs) => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.now() + skewMs, advanceTimers: 5, doNotFake: [...REAL_TIMERS] });
  });
  afterEach(() => jest.useRealTimers());

  test("a job starts by push and a sleep resumes by its timer", async () => {
    expect(Math.abs(Date.now() - (await db.sql`select extract(epoch from clock_timestamp()) * 1000 as ms`)[0].ms - skewMs)).toBeLessThan(60_000);
    const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
    const quick = conductor.createTask({ name: "quick" }, { invocable: true }, async () => "done");
    const napper = conductor.createTask({ name: "napper" }, { invocable: true }, async (_event, ctx) => {
      await ctx.sleep("nap", 300);
      return "rested";
    });
    // localDispatch off: the job must start by its notification, not the in-process fast path.
    const orchestrator = track(
      Orchestrator.create({ conductor, tasks: [quick, napper], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }),
    );
    await orchestrator.start();
    expect(Math.abs(orchestrator.health.database.clockOffsetMs! + skewMs)).toBeLessThan(1_000);

    const job = await conductor.invoke({ name: "quick" }, {});
    await eventually(async () => (await statusOf(db.sql, job)) === "completed", { what: "the job to start by push" });
    const nap = await conductor.invoke({ name: "napper" }, {});
    await eventually(async () => (await statusOf(db.sql, nap)) === "completed", { what: "the sleep to resume by its timer" });
    await orchestrator.stop();
  });

  test("the work of a killed orchestrator is taken over through the rescuer's notification", async () => {
    const { child } = await startFixture("crashing-orchestrator.ts", { FIXTURE_DATABASE_URL: db.url, HANG_AT_STEP: "3" });
    try {
      const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
      const id = await conductor.invoke({ name: "four-steps" }, {});
      // Step two stored (not only its side effect), so the survivor replays it rather than running it again.
      await eventually(async () => (await db.sql`select 1 from pgconductor.steps where execution_id = ${id} and name = 'step:step-2'`).length === 1, { what: "step two in the child" });
      await killHard(child);
      const survivor = track(Orchestrator.create({
        conductor, tasks: [createFourStepTask(conductor, db.sql, null)], defaultWorker: { pollIntervalMs: hour },
        heartbeatIntervalMs: 200, leaseMs: 1_000, handleSignals: false,
      }));
      await survivor.start();
      await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "the survivor to take the work over" });
      const [row] = await db.sql`select count(*)::int as n from side_effects where execution_id = ${id} and name = 'step-2'`;
      expect(row.n).toBe(1);
      await survivor.stop();
    } finally {
      await killHard(child);
    }
  });
});
