import { z } from "zod";
import { Conductor, ConfigurationError, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "office", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "long", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "probe", payload: z.object({ n: z.number() }) }),
]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table step_runs (execution_id uuid, step text)`;
});
afterAll(async () => {
  await db.drop();
});

/** A clock running at real speed, set to any wall time. */
function settableClock() {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    set(at: Date) {
      offset = at.getTime() - Date.now();
    },
  };
}
const utc = (hhmmss: string, dayOffset = 0) => new Date(Date.UTC(2030, 0, 15 + dayOffset, ...hhmmss.split(":").map(Number)));
const pokeQueue = () => db.sql`select pgconductor.notify_work('default', now())`;

test("outside the window nothing runs; when the window opens, the timer starts the waiting work", async () => {
  const clock = settableClock();
  clock.set(new Date(utc("08:59:58").getTime() + 500)); // 1.5 s before the window opens
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "office", window: ["09:00", "17:00"] }, { invocable: true }, async () => "done");
  conductor.createTask({ name: "probe" }, { invocable: true }, async () => {});
  const orchestrator = track(Orchestrator.create({ conductor, clock: clock.now, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();

  const waiting = await conductor.invoke({ name: "office" }, { n: 1 });
  const probe = await conductor.invoke({ name: "probe" }, { n: 1 }); // claimed after the office job was invoked
  await eventually(async () => (await statusOf(db.sql, probe)) === "completed", { what: "the probe" });
  expect(await statusOf(db.sql, waiting)).toBe("pending");
  expect(clock.now().getTime()).toBeLessThan(utc("09:00:00").getTime()); // still closed when we looked

  // No notification, no sweep (an hour away): only the window-opening timer can start it.
  await eventually(async () => (await statusOf(db.sql, waiting)) === "completed", { what: "the office job once the window opens" });
  await orchestrator.stop();
});

test("a window wrapping midnight: closed at noon, open at 23:30", async () => {
  const clock = settableClock();
  clock.set(utc("12:00:00"));
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "office", window: ["22:00", "06:00"] }, { invocable: true }, async () => "night");
  conductor.createTask({ name: "probe" }, { invocable: true }, async () => {});
  const orchestrator = track(Orchestrator.create({ conductor, clock: clock.now, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const night = await conductor.invoke({ name: "office" }, { n: 2 });
  const probe = await conductor.invoke({ name: "probe" }, { n: 2 });
  await eventually(async () => (await statusOf(db.sql, probe)) === "completed", { what: "the probe" });
  expect(await statusOf(db.sql, night)).toBe("pending");
  clock.set(utc("23:30:00"));
  await pokeQueue(); // the clock jumped; a real one would have reached the armed timer
  await eventually(async () => (await statusOf(db.sql, night)) === "completed", { what: "the night job" });
  await orchestrator.stop();
});

test("a long multi-step task pauses at the boundary (released at its next step) and resumes when the window opens", async () => {
  const clock = settableClock();
  clock.set(utc("16:59:59")); // one second before the window closes
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "long", window: ["09:00", "17:00"] }, { invocable: true }, async (_event, ctx) => {
    for (let i = 1; i <= 8; i++) {
      await ctx.step(`part-${i}`, async () => {
        await db.sql`insert into step_runs values (${ctx.executionId}, ${`part-${i}`})`;
        await new Promise((resolve) => setTimeout(resolve, 250)); // the step's work
        return i;
      });
    }
    return "finished";
  });
  const orchestrator = track(Orchestrator.create({ conductor, clock: clock.now, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const id = await conductor.invoke({ name: "long" }, { n: 3 });

  const paused = await eventually(async () => {
    const [row] = await db.sql<{ status: string; attempts: number; locked_by: string | null }[]>`
      select status, attempts, locked_by from pgconductor.executions where id = ${id}`;
    const [steps] = await db.sql`select count(*)::int as n from pgconductor.steps where execution_id = ${id}`;
    return row.status === "pending" && steps.n > 0 ? { ...row, steps: steps.n } : null;
  }, { what: "the task to be released at the window's end" });
  expect(paused.steps).toBeLessThan(8);
  expect(paused.attempts).toBe(0); // a pause is not a failed attempt
  expect(paused.locked_by).toBeNull();

  clock.set(utc("08:59:59", 1)); // next morning, a second before opening
  await pokeQueue();
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "the task to resume and finish" });
  const runs = await db.sql<{ step: string; n: number }[]>`
    select step, count(*)::int as n from step_runs where execution_id = ${id} group by step order by step`;
  expect(runs.map((r) => r.step)).toEqual(Array.from({ length: 8 }, (_, i) => `part-${i + 1}`));
  // The step cut by the boundary may have run twice (its result was not stored yet); finished steps never re-run.
  expect(runs.filter((r) => r.n > 1).length).toBeLessThanOrEqual(1);
  await orchestrator.stop();
});

test("drain does not wait for work outside its window", async () => {
  const clock = settableClock();
  clock.set(utc("20:00:00"));
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "office", window: ["09:00", "17:00"] }, { invocable: true }, async () => "done");
  conductor.createTask({ name: "probe" }, { invocable: true }, async () => {});
  const later = await conductor.invoke({ name: "office" }, { n: 4 });
  const now = await conductor.invoke({ name: "probe" }, { n: 4 });
  const orchestrator = track(Orchestrator.create({ conductor, clock: clock.now, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.drain();
  expect(await statusOf(db.sql, now)).toBe("completed");
  expect(await statusOf(db.sql, later)).toBe("pending");
  await db.sql`delete from pgconductor.executions where id = ${later}`;
});

test("a bad window is rejected at createTask naming the task and the rule", () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  expect(() => conductor.createTask({ name: "office", window: ["9am", "17:00"] as never }, { invocable: true }, async () => {})).toThrow(
    /createTask "office": window times must be "HH:MM"/,
  );
  expect(() => conductor.createTask({ name: "office", window: ["09:00", "17:00"], windowTimeZone: "Mars/Base" }, { invocable: true }, async () => {})).toThrow(
    ConfigurationError,
  );
  expect(() => conductor.createTask({ name: "office", concurrency: 0 }, { invocable: true }, async () => {})).toThrow(/concurrency must be a positive integer/);
});
