import { z } from "zod";
import { Conductor, ConfigurationError, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { eventually, executionRow, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "ping", payload: z.object({ n: z.number() }) })]);

let db: TestDatabase;
const track = trackOrchestrators();
let conductor: Conductor<any, any, any>;
beforeAll(async () => {
  db = await createTestDatabase();
  conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
});
afterAll(async () => {
  await db.drop();
});

const executionsOf = (ids: string[]) =>
  db.sql<{ id: string; payload: { n: number }; run_at: Date; created_at: Date }[]>`
    select id, payload, run_at, created_at from pgconductor.executions where id = any(${ids}) order by created_at`;

test("throttle: one execution per window; calls inside it get its id; after the window a new one is made", async () => {
  // t=0 first call makes execution A; t≈0..1 s calls return A; after the 1 s window a call makes B.
  const a = await conductor.invoke({ name: "ping" }, { n: 1 }, { throttle: { seconds: 1 }, dedupe_key: "user-1" });
  const again = await conductor.invoke({ name: "ping" }, { n: 2 }, { throttle: { seconds: 1 }, dedupe_key: "user-1" });
  const otherKey = await conductor.invoke({ name: "ping" }, { n: 3 }, { throttle: { seconds: 1 }, dedupe_key: "user-2" });
  expect(again).toBe(a);
  expect(otherKey).not.toBe(a);
  expect((await executionRow(db.sql, a)).payload).toEqual({ n: 1 }); // the first payload runs; later calls are dropped

  const [gate] = await db.sql`select window_until from pgconductor.invoke_gates where key = 'user-1' and kind = 'throttle'`;
  const b = await eventually(async () => {
    if (Date.now() <= gate.window_until.getTime()) return null;
    return conductor.invoke({ name: "ping" }, { n: 4 }, { throttle: { seconds: 1 }, dedupe_key: "user-1" });
  }, { what: "the throttle window to pass" });
  expect(b).not.toBe(a);
  const rows = await executionsOf([a, b]);
  expect(rows.map((row) => row.payload.n)).toEqual([1, 4]);
  expect(rows[1].run_at.getTime()).toBeGreaterThanOrEqual(gate.window_until.getTime());
});

test("throttle without a dedupe_key is task-wide, and works inside a batch", async () => {
  const ids = await conductor.invoke({ name: "ping" }, [
    { payload: { n: 10 }, throttle: { seconds: 60 } },
    { payload: { n: 11 }, throttle: { seconds: 60 } },
    { payload: { n: 12 } },
  ]);
  expect(ids[1]).toBe(ids[0]);
  expect(ids[2]).not.toBe(ids[0]);
  const single = await conductor.invoke({ name: "ping" }, { n: 13 }, { throttle: { seconds: 60 } });
  expect(single).toBe(ids[0]);
});

test("debounce: calls collapse into one execution that runs `seconds` after the last call, with the last payload", async () => {
  // t=0 call 1 makes D (run_at = t0 + 2 s); call 2 and 3 push run_at to (their time + 2 s) and replace the payload.
  const first = await conductor.invoke({ name: "ping" }, { n: 41 }, { debounce: { seconds: 2 }, dedupe_key: "doc-7" });
  const firstRunAt = (await executionRow(db.sql, first)).run_at as Date;
  const second = await conductor.invoke({ name: "ping" }, { n: 42 }, { debounce: { seconds: 2 }, dedupe_key: "doc-7" });
  const [{ before }] = await db.sql`select now() as before`;
  const third = await conductor.invoke({ name: "ping" }, { n: 43 }, { debounce: { seconds: 2 }, dedupe_key: "doc-7" });
  expect(second).toBe(first);
  expect(third).toBe(first);
  const row = await executionRow(db.sql, first);
  expect(row.payload).toEqual({ n: 43 });
  expect(row.run_at.getTime()).toBeGreaterThan(firstRunAt.getTime());
  expect(row.run_at.getTime()).toBeGreaterThanOrEqual(before.getTime() + 2000);
  expect(row.status).toBe("pending");
  const [{ n }] = await db.sql`select count(*)::int as n from pgconductor.executions where task_key = 'ping' and payload->>'n' in ('41','42','43')`;
  expect(n).toBe(1);
});

test("debounce: once the execution has started, the next call makes a new one", async () => {
  const first = await conductor.invoke({ name: "ping" }, { n: 20 }, { debounce: { seconds: 1 }, dedupe_key: "doc-8" });
  await db.sql`update pgconductor.executions set status = 'running', attempts = 1 where id = ${first}`; // a worker took it
  const next = await conductor.invoke({ name: "ping" }, { n: 21 }, { debounce: { seconds: 1 }, dedupe_key: "doc-8" });
  expect(next).not.toBe(first);
  expect((await executionRow(db.sql, first)).payload).toEqual({ n: 20 });
});

test("debounce in a batch keeps the last payload of a key", async () => {
  const ids = await conductor.invoke({ name: "ping" }, [
    { payload: { n: 30 }, debounce: { seconds: 5 }, dedupe_key: "k" },
    { payload: { n: 31 }, debounce: { seconds: 5 }, dedupe_key: "k" },
  ]);
  expect(ids[0]).toBe(ids[1]);
  expect((await executionRow(db.sql, ids[0])).payload).toEqual({ n: 31 });
});

test("bad throttle/debounce options are rejected naming the task and rule, and write nothing", async () => {
  const [before] = await db.sql`select count(*)::int as n from pgconductor.executions`;
  await expect(conductor.invoke({ name: "ping" }, { n: 1 }, { throttle: { seconds: 0 } })).rejects.toThrow(/Task "ping": throttle must be \{ seconds: n \}/);
  await expect(conductor.invoke({ name: "ping" }, { n: 1 }, { debounce: { seconds: 1 }, throttle: { seconds: 1 } })).rejects.toThrow(ConfigurationError);
  await expect(conductor.invoke({ name: "ping" }, { n: 1 }, { debounce: { seconds: 1 }, run_at: new Date() })).rejects.toThrow(/run_at/);
  const [after] = await db.sql`select count(*)::int as n from pgconductor.executions`;
  expect(after.n).toBe(before.n);
});

test("a debounced execution runs once, when its (pushed-back) time comes, with the last payload", async () => {
  const runner = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const seen: number[] = [];
  runner.createTask({ name: "ping" }, { invocable: true }, async (event) => {
    seen.push(event.payload.n);
  });
  const orchestrator = track(Orchestrator.create({ conductor: runner, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const ids: string[] = [];
  for (const n of [51, 52, 53]) ids.push(await conductor.invoke({ name: "ping" }, { n }, { debounce: { seconds: 1 }, dedupe_key: "run-me" }));
  expect(new Set(ids).size).toBe(1);
  // Only the due timer can start it (the sweep is an hour away); the update re-armed it via NOTIFY.
  await eventually(async () => (await executionRow(db.sql, ids[0])).status === "completed", { what: "the debounced execution to run" });
  expect(seen.filter((n) => n >= 51 && n <= 53)).toEqual([53]);
  await orchestrator.stop();
});
