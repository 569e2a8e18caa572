import { z } from "zod";
import { Conductor, ConfigurationError, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "tick" }),
  defineTask({ name: "two-schedules" }),
  defineTask({ name: "dynamic", payload: z.object({ note: z.string() }) }),
  defineTask({ name: "planner" }),
  defineTask({ name: "ticker", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "late" }),
  defineTask({ name: "renamed" }),
  defineTask({ name: "broken" }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

/** A Conductor on a connection pool of its own, as a separate process would have. */
function conductorOnOwnPool() {
  const sql = db.pool(4);
  return Conductor.create({ sql, tasks, context: {}, logger: silentLogger });
}

const startOrchestrator = async (conductor: Conductor<any, any, any>, task: { name: string }) => {
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [conductor.tasks.get(task.name)!], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  return orchestrator;
};

async function executionsOf(taskKey: string) {
  return db.sql<{ id: string; status: string; run_at: Date; event_name: string; payload: any; cancel_reason: string | null; started_at: Date | null }[]>`
    select id, status, run_at, event_name, payload, cancel_reason, started_at from pgconductor.executions
    where task_key = ${taskKey} order by run_at, created_at`;
}

test("a `* * * * * *` schedule under three orchestrators runs once per fire time, not three times", async () => {
  const runs: { fireTime: string; node: number }[] = [];
  const nodes = [0, 1, 2].map((node) => {
    const conductor = conductorOnOwnPool();
    conductor.createTask({ name: "tick" }, { cron: "* * * * * *", name: "every-second" }, async (event, ctx) => {
      expect(event.name).toBe("every-second");
      const [row] = await db.sql`select run_at from pgconductor.executions where id = ${ctx.executionId}`;
      runs.push({ fireTime: row.run_at.toISOString(), node });
    });
    return conductor;
  });
  for (const conductor of nodes) await startOrchestrator(conductor, { name: "tick" });

  await eventually(async () => (await executionsOf("tick")).filter((row) => row.status === "completed").length >= 4, {
    what: "four fire times to complete",
  });

  const completed = (await executionsOf("tick")).filter((row) => row.status === "completed");
  const fireTimes = completed.map((row) => row.run_at.getTime());
  expect(new Set(fireTimes).size).toBe(fireTimes.length); // one execution per fire time
  for (const at of fireTimes) expect(at % 1000).toBe(0); // on whole seconds
  const sorted = [...fireTimes].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBe(1000); // every second, none skipped
  const runsPerFireTime = new Map<string, number>();
  for (const run of runs) runsPerFireTime.set(run.fireTime, (runsPerFireTime.get(run.fireTime) ?? 0) + 1);
  expect([...runsPerFireTime.values()].every((count) => count === 1)).toBe(true);

  const [{ duplicates }] = await db.sql`
    select count(*)::int as duplicates from (
      select run_at from pgconductor.executions where task_key = 'tick' and status <> 'cancelled'
      group by run_at having count(*) > 1) d`;
  expect(duplicates).toBe(0);
});

test("several schedules per task: event.name is the schedule's name, and a failed run does not stop its schedule", async () => {
  const conductor = conductorOnOwnPool();
  const seen = new Set<string>();
  conductor.createTask(
    { name: "two-schedules", maxAttempts: 1 },
    [
      { invocable: true },
      { cron: "* * * * * *", name: "fast" },
      { cron: "*/2 * * * * *", name: "slow" },
    ],
    async (event) => {
      const name: "fast" | "slow" | "pgconductor.invoke" = event.name;
      seen.add(name);
      if (name === "fast") throw new Error("fast always fails");
    },
  );
  await startOrchestrator(conductor, { name: "two-schedules" });
  await eventually(
    async () => {
      const rows = await executionsOf("two-schedules");
      const failedFast = rows.filter((row) => row.event_name === "fast" && row.status === "failed");
      const completedSlow = rows.filter((row) => row.event_name === "slow" && row.status === "completed");
      return failedFast.length >= 2 && completedSlow.length >= 1;
    },
    { what: "two failed `fast` runs and a completed `slow` run" },
  );
  expect([...seen].sort()).toEqual(["fast", "slow"]);
  const schedules = await db.sql`select name, cron, dynamic from pgconductor.schedules where task_key = 'two-schedules' order by name`;
  expect(schedules).toEqual([
    { name: "fast", cron: "* * * * * *", dynamic: false },
    { name: "slow", cron: "*/2 * * * * *", dynamic: false },
  ]);
});

test("a malformed cron expression is an error at createTask naming the task and the trigger", () => {
  const conductor = conductorOnOwnPool();
  const create = (triggers: unknown) => () => conductor.createTask({ name: "broken" }, triggers as never, async () => {});
  expect(create([{ invocable: true }, { cron: "61 * * * *", name: "bad-minute" }])).toThrow(ConfigurationError);
  expect(create([{ invocable: true }, { cron: "61 * * * *", name: "bad-minute" }])).toThrow(
    /createTask "broken", trigger 2 \(schedule "bad-minute"\): invalid cron expression "61 \* \* \* \*"/,
  );
  expect(create({ cron: "every day", name: "words" })).toThrow(/createTask "broken", trigger 1 \(schedule "words"\)/);
  expect(create({ cron: "", name: "empty" })).toThrow(/trigger 1 \(schedule "empty"\): the cron expression must be a non-empty string/);
  expect(create({ cron: "0 9 * * *" })).toThrow(/createTask "broken", trigger 1: a cron trigger needs a `name`/);
  expect(create({ cron: "0 9 * * *", name: "nine", tz: "Mars/Olympus" })).toThrow(/tz Mars\/Olympus/);
  expect(
    create([
      { cron: "0 9 * * *", name: "same" },
      { cron: "0 10 * * *", name: "same" },
    ]),
  ).toThrow(/createTask "broken": schedule "same" appears in more than one trigger/);
  expect(conductor.tasks.has("broken")).toBe(false);
});

test("conductor.schedule / unschedule: the same name replaces, unschedule cancels the pending run", async () => {
  const conductor = conductorOnOwnPool();
  const next = await conductor.schedule({ name: "dynamic" }, "new-year", { cron: "0 0 1 1 *" }, { note: "first" });
  expect(next.getUTCMonth()).toBe(0);
  expect(next.getUTCDate()).toBe(1);
  expect(next.getTime()).toBeGreaterThan(Date.now());

  let rows = await executionsOf("dynamic");
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: "pending", event_name: "new-year", payload: { note: "first" } });
  expect(rows[0].run_at.getTime()).toBe(next.getTime());
  const firstId = rows[0].id;

  // Scheduling again with the same settings keeps the pending run.
  await conductor.schedule({ name: "dynamic" }, "new-year", { cron: "0 0 1 1 *" }, { note: "first" });
  expect((await executionsOf("dynamic")).map((row) => row.id)).toEqual([firstId]);

  // A different expression or payload replaces it.
  const replaced = await conductor.schedule({ name: "dynamic" }, "new-year", { cron: "0 12 1 1 *" }, { note: "second" });
  rows = await executionsOf("dynamic");
  expect(rows.find((row) => row.id === firstId)).toMatchObject({ status: "cancelled", cancel_reason: "schedule replaced" });
  const pending = rows.filter((row) => row.status === "pending");
  expect(pending).toHaveLength(1);
  expect(pending[0]).toMatchObject({ event_name: "new-year", payload: { note: "second" } });
  expect(pending[0].run_at.getTime()).toBe(replaced.getTime());

  await expect(conductor.unschedule({ name: "dynamic" }, "new-year")).resolves.toBe(true);
  rows = await executionsOf("dynamic");
  expect(rows.filter((row) => row.status === "pending")).toHaveLength(0);
  expect(rows.find((row) => row.id === pending[0].id)).toMatchObject({ status: "cancelled", cancel_reason: "unscheduled" });
  expect(await db.sql`select 1 from pgconductor.schedules where task_key = 'dynamic'`).toHaveLength(0);
  await expect(conductor.unschedule({ name: "dynamic" }, "new-year")).resolves.toBe(false);
});

test("conductor.schedule rejects bad input, writing nothing", async () => {
  const conductor = conductorOnOwnPool();
  await expect(conductor.schedule({ name: "dynamic" }, "bad", { cron: "* * *" }, { note: "x" })).rejects.toThrow(
    /schedule "bad" of task "dynamic": invalid cron expression "\* \* \*": expected 5 fields/,
  );
  await expect(conductor.schedule({ name: "dynamic" }, "bad", { cron: "0 9 * * *" }, { note: 1 } as never)).rejects.toThrow(/Task "dynamic".*note/);
  await expect(conductor.schedule({ name: "nope" } as never, "bad", { cron: "0 9 * * *" })).rejects.toThrow(/Unknown task "nope"/);
  expect(await db.sql`select 1 from pgconductor.schedules where name = 'bad'`).toHaveLength(0);
});

test("ctx.schedule from a task starts runs of another task; ctx.unschedule stops them and cancels the pending run", async () => {
  const conductor = conductorOnOwnPool();
  const payloads: unknown[] = [];
  const planner = conductor.createTask({ name: "planner" }, { invocable: true }, async (_event, ctx) => {
    await ctx.schedule({ name: "ticker" }, "tick-tock", { cron: "* * * * * *" }, { n: 7 });
  });
  const ticker = conductor.createTask({ name: "ticker" }, { invocable: true }, async (event, ctx) => {
    expect(event.name).toBe("tick-tock");
    payloads.push(event.payload);
    if (payloads.length === 2) await ctx.unschedule({ name: "ticker" }, "tick-tock");
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [planner, ticker], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  await conductor.invoke({ name: "planner" }, undefined);

  await eventually(
    async () =>
      (await db.sql`select 1 from pgconductor.schedules where task_key = 'ticker'`).length === 0 &&
      (await executionsOf("ticker")).filter((row) => row.status === "completed").length === 2,
    { what: "ticker to run twice and unschedule itself" },
  );
  expect(payloads.slice(0, 2)).toEqual([{ n: 7 }, { n: 7 }]);
  const rows = await executionsOf("ticker");
  expect(rows.filter((row) => row.status === "pending")).toHaveLength(0);
  expect(rows.filter((row) => row.status === "completed")).toHaveLength(2);
  // The run materialised for the next second was cancelled, not left to start.
  expect(rows.filter((row) => row.status === "cancelled").every((row) => row.cancel_reason === "unscheduled" && row.started_at === null)).toBe(true);
});

test("a static schedule cannot be replaced or removed dynamically", async () => {
  const conductor = conductorOnOwnPool();
  conductor.createTask({ name: "two-schedules" }, [{ invocable: true }, { cron: "* * * * * *", name: "fast" }], async () => {});
  await expect(conductor.unschedule({ name: "two-schedules" }, "fast")).rejects.toThrow(ConfigurationError);
  await expect(conductor.schedule({ name: "two-schedules" }, "fast", { cron: "0 9 * * *" })).rejects.toThrow(
    /schedule "fast" of task "two-schedules" is a \{ cron, name \} trigger/,
  );
});

test("fire times missed while nothing ran: the materialised run runs once, then the schedule continues from now", async () => {
  const conductor = conductorOnOwnPool();
  let runs = 0;
  const late = conductor.createTask({ name: "late" }, { cron: "0 0 1 1 *", name: "new-year" }, async () => {
    runs += 1;
  });
  // As if every orchestrator had been down for 100 days: the monthly schedule's materialised run is
  // 100 days old and three or four fire times after it were missed.
  const first = await conductor.schedule({ name: "late" }, "monthly", { cron: "0 0 1 * *" });
  await db.sql`update pgconductor.executions set run_at = run_at - interval '100 days' where task_key = 'late'`;
  await db.sql`update pgconductor.schedules set next_run_at = next_run_at - interval '100 days' where task_key = 'late'`;

  await startOrchestrator(conductor, late);
  await eventually(
    async () => {
      const [schedule] = await db.sql`select next_run_at > now() as moved from pgconductor.schedules where task_key = 'late' and name = 'monthly'`;
      return schedule.moved && (await executionsOf("late")).some((row) => row.status === "completed");
    },
    { what: "the late run to complete and its schedule to move on" },
  );
  const [monthly] = await db.sql`select next_run_at, now() as now from pgconductor.schedules where task_key = 'late' and name = 'monthly'`;
  const rows = await executionsOf("late");
  const completed = rows.filter((row) => row.status === "completed");
  expect(completed).toHaveLength(1);
  expect(completed[0].run_at.getTime()).toBe(first.getTime() - 100 * 24 * hour);
  expect(runs).toBe(1);
  // Its successor is the first of next month from now, not one of the missed ones.
  expect(monthly.next_run_at.getTime()).toBeGreaterThan(monthly.now.getTime());
  expect(monthly.next_run_at.getUTCDate()).toBe(1);
  const pending = rows.filter((row) => row.status === "pending");
  expect(pending.map((row) => row.event_name).sort()).toEqual(["monthly", "new-year"]);
  expect(pending.find((row) => row.event_name === "monthly")!.run_at.getTime()).toBe(monthly.next_run_at.getTime());
});

test("an orchestrator removes the static schedules its tasks no longer declare, cancelling their pending runs", async () => {
  const before = conductorOnOwnPool();
  before.createTask({ name: "renamed" }, { cron: "0 0 1 1 *", name: "old-name" }, async () => {});
  const first = await startOrchestrator(before, { name: "renamed" });
  await eventually(async () => (await executionsOf("renamed")).some((row) => row.status === "pending" && row.event_name === "old-name"));
  await first.stop();

  const after = conductorOnOwnPool();
  after.createTask({ name: "renamed" }, { cron: "0 0 1 1 *", name: "new-name" }, async () => {});
  await startOrchestrator(after, { name: "renamed" });
  await eventually(async () => (await executionsOf("renamed")).some((row) => row.status === "pending" && row.event_name === "new-name"));
  const rows = await executionsOf("renamed");
  expect(rows.filter((row) => row.status === "pending").map((row) => row.event_name)).toEqual(["new-name"]);
  expect(rows.find((row) => row.event_name === "old-name")).toMatchObject({ status: "cancelled", cancel_reason: "schedule removed" });
  expect((await db.sql`select name from pgconductor.schedules where task_key = 'renamed'`).map((row) => row.name)).toEqual(["new-name"]);
});
