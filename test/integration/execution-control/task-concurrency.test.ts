import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { deferred, eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "limited", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "free", payload: z.object({ n: z.number() }) }),
]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table runs (execution_id uuid, task text, started_at timestamptz, ended_at timestamptz)`;
});
afterAll(async () => {
  await db.drop();
});

const conductorFor = () => Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
const start = (conductor: Conductor<any, any, any>, concurrency = 5) =>
  track(Orchestrator.create({ conductor, defaultWorker: { concurrency, pollIntervalMs: hour }, handleSignals: false }));

/** Most executions of `task` running at any one moment, from the recorded start/end times. */
async function maxOverlap(task: string): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`
    select coalesce(max(n), 0)::int as n from (
      select (select count(*) from runs b
              where b.task = ${task} and b.started_at <= a.started_at and b.ended_at > a.started_at) as n
      from runs a where a.task = ${task}) x`;
  return row.n;
}

test("a limit of 2 holds across two orchestrators: 20 jobs never have more than 2 running", async () => {
  const orchestrators = [conductorFor(), conductorFor()].map((conductor) => {
    conductor.createTask({ name: "limited", concurrency: 2 }, { invocable: true }, async (_event, ctx) => {
      await db.sql`insert into runs values (${ctx.executionId}, 'limited', clock_timestamp(), null)`;
      await new Promise((resolve) => setTimeout(resolve, 40)); // the work being limited
      await db.sql`update runs set ended_at = clock_timestamp() where execution_id = ${ctx.executionId}`;
    });
    return start(conductor);
  });
  await Promise.all(orchestrators.map((o) => o.start()));
  const ids = await conductorFor().invoke({ name: "limited" }, Array.from({ length: 20 }, (_, n) => ({ payload: { n } })));
  await eventually(async () => {
    const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${ids}) and status = 'completed'`;
    return row.n === 20;
  }, { what: "all 20 limited jobs to complete", timeoutMs: 30_000 });
  expect(await maxOverlap("limited")).toBeLessThanOrEqual(2);
  expect(await maxOverlap("limited")).toBe(2); // the limit is used, not just respected
  await Promise.all(orchestrators.map((o) => o.stop()));
});

test("tasks without a limit keep running while the limited task is saturated", async () => {
  const conductor = conductorFor();
  const release = deferred();
  const started: string[] = [];
  conductor.createTask({ name: "limited", concurrency: 2 }, { invocable: true }, async (_event, ctx) => {
    started.push(ctx.executionId);
    await release.promise;
  });
  conductor.createTask({ name: "free" }, { invocable: true }, async () => {});
  const orchestrator = start(conductor, 10);
  await orchestrator.start();
  const limitedIds = await conductor.invoke({ name: "limited" }, Array.from({ length: 5 }, (_, n) => ({ payload: { n: 100 + n } })));
  await eventually(() => started.length === 2, { what: "two limited executions to start" });
  const freeIds = await conductor.invoke({ name: "free" }, Array.from({ length: 30 }, (_, n) => ({ payload: { n } })));
  await eventually(async () => {
    const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${freeIds}) and status = 'completed'`;
    return row.n === 30;
  }, { what: "the unlimited task's jobs to complete while the limited ones wait" });
  const [running] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${limitedIds}) and status = 'running'`;
  expect(running.n).toBe(2);
  expect(started).toHaveLength(2);
  release.resolve();
  await eventually(async () => {
    const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${limitedIds}) and status = 'completed'`;
    return row.n === 5;
  }, { what: "the waiting limited jobs to run once slots free up" });
  await orchestrator.stop();
});

test("a crashed holder's slot comes back when its lease expires", async () => {
  const conductor = conductorFor();
  conductor.createTask({ name: "limited", concurrency: 1 }, { invocable: true }, async () => {});
  conductor.createTask({ name: "free" }, { invocable: true }, async () => {});
  const orchestrator = start(conductor);
  await orchestrator.start();
  // A holder that died an hour ago: its execution still says running, and its record is gone.
  const [stuck] = await db.sql`
    insert into pgconductor.executions (task_key, status, locked_by, locked_at, attempts)
    values ('limited', 'running', ${randomUUID()}, now() - interval '1 hour', 1) returning id`;
  const waiting = await conductor.invoke({ name: "limited" }, { n: 1 });
  // Evidence that the worker claimed after the invoke: a later free job completes, the limited one does not.
  const probe = await conductor.invoke({ name: "free" }, { n: 2 });
  await eventually(async () => (await statusOf(db.sql, probe)) === "completed", { what: "the probe job" });
  expect(await statusOf(db.sql, waiting)).toBe("pending");

  await db.sql`select pgconductor.recover_expired(1000)`;
  await eventually(async () => (await statusOf(db.sql, waiting)) === "completed" && (await statusOf(db.sql, stuck.id)) === "completed", {
    what: "both limited executions to run after the lease expired",
  });
  await orchestrator.stop();
});
