import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";
import { MaintenanceService } from "../../../src/runtime/maintenance";
import { channel$ } from "../../../src/streams/notifications";
import { MAINTENANCE_LOCK, REPLICATION_CONSUMER_LOCK } from "../../../src/model/locks";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "keep3", payload: z.object({}) }),
  defineTask({ name: "forever", payload: z.object({}) }),
  defineTask({ name: "instant", payload: z.object({ fail: z.boolean() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "keep3", removeOnComplete: { days: 3 }, removeOnFail: { days: 1 } }, { invocable: true }, async () => {});
  conductor.createTask({ name: "forever", removeOnComplete: false, removeOnFail: false }, { invocable: true }, async () => {});
  conductor.createTask({ name: "instant", removeOnComplete: true, removeOnFail: true, maxAttempts: 1 }, { invocable: true }, async (event) => {
    if (event.payload.fail) throw new Error("for good");
  });
  return { conductor, orchestrator: track(Orchestrator.create({ conductor, defaultWorker: { pollIntervalMs: hour }, handleSignals: false })) };
}

/** A finished execution of `task` that finished `days` ago. */
async function finished(task: string, status: string, days: number, label: string) {
  const [row] = await db.sql`
    insert into pgconductor.executions (task_key, status, payload, finished_at)
    values (${task}, ${status}, ${db.sql.json({ label })}, now() - make_interval(secs => ${days * 86400}))
    returning id`;
  return row.id as string;
}

test("maintenance removes exactly the finished executions past their task's retention", async () => {
  const { orchestrator } = setup();
  await orchestrator.start(); // writes the tasks' settings

  const doomed = [
    await finished("keep3", "completed", 4, "keep3 completed 4d"),
    await finished("keep3", "failed", 2, "keep3 failed 2d"),
    await finished("keep3", "cancelled", 1.5, "keep3 cancelled 1.5d"),
    await finished("unregistered", "completed", 8, "default completed 8d"),
    await finished("unregistered", "failed", 31, "default failed 31d"),
  ];
  const kept = [
    await finished("keep3", "completed", 2, "keep3 completed 2d"),
    await finished("keep3", "failed", 0.5, "keep3 failed 0.5d"),
    await finished("forever", "completed", 400, "forever completed"),
    await finished("forever", "failed", 400, "forever failed"),
    await finished("unregistered", "completed", 6, "default completed 6d"),
    await finished("unregistered", "failed", 29, "default failed 29d"),
  ];
  // Unfinished work is never removed, however old; nor a finished parent whose child still runs.
  const [old] = await db.sql`insert into pgconductor.executions (task_key, created_at, run_at) values ('keep3', now() - interval '90 days', now() + interval '1 year') returning id`;
  kept.push(old.id);
  const parent = await finished("keep3", "failed", 10, "parent");
  await db.sql`insert into pgconductor.executions (task_key, parent_id, parent_step, run_at) values ('forever', ${parent}, 'invoke:x', now() + interval '1 year')`;
  kept.push(parent);
  await db.sql`insert into pgconductor.steps (execution_id, name, result) values (${doomed[0]}, 'step:a', '{}')`;
  // A dead orchestrator's record (silent for two hours) and a live one.
  const dead = randomUUID();
  await db.sql`insert into pgconductor.orchestrators (id, hostname, pid, schema_version, last_heartbeat_at) values (${dead}, 'gone', 1, 1, now() - interval '2 hours')`;

  // Emitted events are kept 30 days.
  const [oldEvent] = await db.sql`insert into pgconductor.events (name, created_at) values ('signup', now() - interval '31 days') returning id`;
  const [newEvent] = await db.sql`insert into pgconductor.events (name, created_at) values ('signup', now() - interval '29 days') returning id`;

  const report = await orchestrator.runMaintenance();
  expect(report).toMatchObject({ completed: 2, failed: 3, orchestrators: 1, events: 1 });
  expect((await db.sql`select id from pgconductor.events`).map((row) => row.id)).toEqual([newEvent.id]);
  void oldEvent;
  const left = new Set((await db.sql`select id from pgconductor.executions`).map((row) => row.id));
  expect(doomed.filter((id) => left.has(id))).toEqual([]);
  expect(kept.filter((id) => !left.has(id))).toEqual([]);
  expect(await db.sql`select 1 from pgconductor.steps where execution_id = ${doomed[0]}`).toHaveLength(0);
  expect(await db.sql`select 1 from pgconductor.orchestrators where id = ${dead}`).toHaveLength(0);
  expect(await db.sql`select 1 from pgconductor.orchestrators where id = ${orchestrator.id}`).toHaveLength(1);
  await orchestrator.stop();
});

test("removeOnComplete / removeOnFail: true remove the execution as soon as it finishes", async () => {
  const { conductor, orchestrator } = setup();
  await orchestrator.start();
  const ok = await conductor.invoke({ name: "instant" }, { fail: false });
  const bad = await conductor.invoke({ name: "instant" }, { fail: true });
  const other = await conductor.invoke({ name: "keep3" }, {});
  await eventually(async () => (await db.sql`select status from pgconductor.executions where id = ${other}`)[0]?.status === "completed", { what: "keep3 to complete" });
  await eventually(async () => (await db.sql`select 1 from pgconductor.executions where id = any(${[ok, bad]})`).length === 0, {
    what: "both instant executions to be removed",
  });
  await orchestrator.stop();
});

test("only one process runs maintenance at a time: the others skip", async () => {
  const { orchestrator } = setup();
  const holder = await db.sql.reserve();
  try {
    await holder`select pg_advisory_lock(${MAINTENANCE_LOCK})`;
    expect(await orchestrator.runMaintenance()).toBeNull();
    await holder`select pg_advisory_unlock(${MAINTENANCE_LOCK})`;
    expect(await orchestrator.runMaintenance()).not.toBeNull();
  } finally {
    holder.release();
  }
});

test("maintenance runs while the replication consumer holds its session lock (distinct keys)", async () => {
  const { orchestrator } = setup();
  const holder = await db.sql.reserve();
  try {
    await holder`select pg_advisory_lock(${REPLICATION_CONSUMER_LOCK})`;
    expect(await orchestrator.runMaintenance()).not.toBeNull();
  } finally {
    await holder`select pg_advisory_unlock(${REPLICATION_CONSUMER_LOCK})`;
    holder.release();
  }
});

test("bad retention settings are rejected at createTask", () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  expect(() => conductor.createTask({ name: "keep3", removeOnComplete: { days: -1 } }, { invocable: true }, async () => {})).toThrow(
    /createTask "keep3": removeOnComplete must be true, false or \{ days: n \}/,
  );
});

test("the maintenance service runs when the last run is older than its period, and not again before", async () => {
  const doomed = await finished("unregistered", "completed", 8, "scheduled removal");
  const kept = await finished("unregistered", "completed", 6, "not yet");
  await db.sql`update pgconductor.maintenance_runs set last_run_at = now() - interval '25 hours'`;
  const context = {
    sql: db.sql,
    logger: silentLogger,
    orchestratorId: randomUUID(),
    tasks: [],
    channel: (name: string) => channel$(db.sql, name),
    requestStop: () => {},
  };
  const service = new MaintenanceService({ firstCheckMs: 0, checkMs: 50 });
  service.start(context);
  try {
    const ran = await eventually(async () => {
      const [row] = await db.sql`select last_run_at > now() - interval '1 minute' as fresh, last_run_at from pgconductor.maintenance_runs`;
      return row?.fresh ? row.last_run_at : null;
    }, { what: "the scheduled run" });
    const left = (await db.sql`select id from pgconductor.executions where id = any(${[doomed, kept]})`).map((row) => row.id);
    expect(left).toEqual([kept]);
    // Checks every 50 ms keep happening, but a day has not passed: the recorded run stays the same.
    await new Promise((resolve) => setTimeout(resolve, 200)); // several check periods
    const [row] = await db.sql`select last_run_at from pgconductor.maintenance_runs`;
    expect(row.last_run_at).toEqual(ran);
  } finally {
    await service.stop();
  }
});

test("maintenance removes rate-limit starts that left their task's window, and keeps the rest", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "keep3", rateLimit: { limit: 5, periodSeconds: 60 } }, { invocable: true }, async () => {});
  const orchestrator = track(Orchestrator.create({ conductor, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start(); // records the task's rate period
  await orchestrator.stop();
  // A bucket nobody claims from any more keeps its rows until maintenance: the claim trims only
  // the bucket it looks at.
  await db.sql`
    insert into pgconductor.rate_starts (task_key, key, started_at) values
      ('keep3', 'gone-tenant', now() - interval '61 seconds'),
      ('keep3', 'gone-tenant', now() - interval '59 seconds'),
      ('no-longer-limited', '', now() - interval '25 hours'),
      ('no-longer-limited', '', now() - interval '23 hours')`;
  const report = await orchestrator.runMaintenance();
  expect(report).toMatchObject({ rateStarts: 2 });
  const left = await db.sql`select task_key, extract(epoch from now() - started_at)::int as age from pgconductor.rate_starts order by task_key`;
  expect(left.map((row) => [row.task_key, row.age])).toEqual([
    ["keep3", 59],
    ["no-longer-limited", 23 * 3600],
  ]);
});
