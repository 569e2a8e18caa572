import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask, ValidationError, UnknownTaskError } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { deferred, eventually, executionRow, hour, makeDueNow, statusOf, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "greet", payload: z.object({ name: z.string() }), returns: z.object({ greeting: z.string() }) }),
  defineTask({ name: "record", payload: z.object({ label: z.string() }) }),
  defineTask({ name: "flaky", payload: z.object({ failTimes: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  return conductor;
}

test("an invoked task runs and its result is stored", async () => {
  const conductor = setup();
  const greet = conductor.createTask({ name: "greet" }, { invocable: true }, async (event) => ({ greeting: `hello ${event.payload.name}` }));
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [greet], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const id = await conductor.invoke({ name: "greet" }, { name: "ada" });
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "greet to complete" });
  expect((await executionRow(db.sql, id)).result).toEqual({ greeting: "hello ada" });
  await orchestrator.stop();
});

test("a payload failing its schema is rejected naming task and path, and nothing is written", async () => {
  const conductor = setup();
  const before = await db.sql`select count(*)::int as n from pgconductor.executions`;
  await expect(conductor.invoke({ name: "greet" }, { name: 42 } as never)).rejects.toThrow(ValidationError);
  await expect(conductor.invoke({ name: "greet" }, { name: 42 } as never)).rejects.toThrow(/Task "greet".*name/);
  await expect(conductor.invoke({ name: "nope" } as never, {} as never)).rejects.toThrow(UnknownTaskError);
  await expect(
    conductor.invoke({ name: "record" }, [{ payload: { label: "ok" } }, { payload: { label: 1 } as never }]),
  ).rejects.toThrow(/Task "record".*label/);
  const after = await db.sql`select count(*)::int as n from pgconductor.executions`;
  expect(after[0].n).toBe(before[0].n);
});

test("batch invoke is one transaction: ids in order, and a failing row writes none", async () => {
  const conductor = setup();
  const ids = await conductor.invoke({ name: "record" }, [
    { payload: { label: "a" } },
    { payload: { label: "b" }, priority: 5 },
    { payload: { label: "c" }, dedupe_key: "batch-c" },
  ]);
  expect(ids).toHaveLength(3);
  const rows = await db.sql`select id, payload from pgconductor.executions where id = any(${ids})`;
  const labels = new Map(rows.map((row) => [row.id, row.payload.label]));
  expect(ids.map((id) => labels.get(id))).toEqual(["a", "b", "c"]);

  // A row the database rejects (a priority beyond int range) rolls back the whole batch.
  const before = await db.sql`select count(*)::int as n from pgconductor.executions`;
  await expect(
    conductor.invoke({ name: "record" }, [{ payload: { label: "x" } }, { payload: { label: "y" }, priority: 2 ** 40 }]),
  ).rejects.toThrow();
  const after = await db.sql`select count(*)::int as n from pgconductor.executions`;
  expect(after[0].n).toBe(before[0].n);
  await db.sql`delete from pgconductor.executions where id = any(${ids})`;
});

test("a second invoke with the same dedupe_key returns the same id while unfinished", async () => {
  const conductor = setup();
  const first = await conductor.invoke({ name: "record" }, { label: "one" }, { dedupe_key: "same" });
  const second = await conductor.invoke({ name: "record" }, { label: "two" }, { dedupe_key: "same" });
  expect(second).toBe(first);
  const inBatch = await conductor.invoke({ name: "record" }, [
    { payload: { label: "x" }, dedupe_key: "same" },
    { payload: { label: "y" }, dedupe_key: "other" },
    { payload: { label: "z" }, dedupe_key: "other" },
  ]);
  expect(inBatch[0]).toBe(first);
  expect(inBatch[2]).toBe(inBatch[1]);
  await db.sql`delete from pgconductor.executions where task_key = 'record'`;
});

test("higher priority runs first (concurrency 1)", async () => {
  const conductor = setup();
  const order: string[] = [];
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async (event) => {
    order.push(event.payload.label);
  });
  await conductor.invoke({ name: "record" }, [
    { payload: { label: "low" }, priority: 1 },
    { payload: { label: "high" }, priority: 10 },
    { payload: { label: "mid" }, priority: 5 },
  ]);
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [record], defaultWorker: { concurrency: 1 }, handleSignals: false }));
  await orchestrator.drain();
  expect(order).toEqual(["high", "mid", "low"]);
});

test("push: a new invoke starts promptly with an hour-long sweep", async () => {
  const conductor = setup();
  const started = deferred<string>();
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async (event) => started.resolve(event.payload.label));
  // localDispatch off: the in-process fast path would start it without the notification under test.
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [record], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  // Let the start-up claim find nothing, so only a notification can wake the worker.
  await eventually(() => orchestrator.info.isRunning);
  await new Promise((resolve) => setImmediate(resolve));
  await conductor.invoke({ name: "record" }, { label: "pushed" });
  await expect(started.promise).resolves.toBe("pushed");
  await orchestrator.stop();
});

test("run_at is honoured and the job starts when due by the timer, not the sweep", async () => {
  const conductor = setup();
  let startedAt = 0;
  const ran = deferred();
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async () => {
    startedAt = Date.now();
    ran.resolve();
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [record], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const due = Date.now() + 1500;
  await conductor.invoke({ name: "record" }, { label: "later" }, { run_at: new Date(due) });
  await ran.promise;
  expect(startedAt).toBeGreaterThanOrEqual(due - 5); // never early (a few ms of clock rounding)
  await orchestrator.stop();
});

test("several delayed executions each start when due, one after another, without a sweep", async () => {
  const conductor = setup();
  const ran: string[] = [];
  const both = deferred();
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async (event) => {
    ran.push(event.payload.label);
    if (ran.length === 2) both.resolve();
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [record], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const now = Date.now();
  await conductor.invoke({ name: "record" }, [
    { payload: { label: "second" }, run_at: now + 1200 },
    { payload: { label: "first" }, run_at: now + 600 },
  ]);
  await both.promise;
  expect(ran).toEqual(["first", "second"]);
  await orchestrator.stop();
});

test("run_at must be a valid time; a row parked at infinity does not break the insert trigger", async () => {
  const conductor = setup();
  await expect(conductor.invoke({ name: "record" }, { label: "never" }, { run_at: Number.POSITIVE_INFINITY })).rejects.toThrow(
    /Task "record": run_at is not a valid time/,
  );
  const [row] = await db.sql`
    insert into pgconductor.executions (task_key, payload, run_at) values ('record', '{"label":"parked"}', 'infinity') returning id`;
  expect(await statusOf(db.sql, row.id)).toBe("pending");
  await db.sql`delete from pgconductor.executions where id = ${row.id}`;
});

test("cancel of a pending execution: it never runs and is recorded with the reason", async () => {
  const conductor = setup();
  const ran: string[] = [];
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async (event) => {
    ran.push(event.payload.label);
  });
  const id = await conductor.invoke({ name: "record" }, { label: "cancel-me" });
  await expect(conductor.cancel(id, { reason: "changed my mind" })).resolves.toBe(true);
  await expect(conductor.cancel(id)).resolves.toBe(false);
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [record], handleSignals: false }));
  await orchestrator.drain();
  expect(ran).not.toContain("cancel-me");
  const row = await executionRow(db.sql, id);
  expect(row.status).toBe("cancelled");
  expect(row.cancel_reason).toBe("changed my mind");
});

test("cancel by task and dedupe key cancels the unfinished execution with that key", async () => {
  const conductor = setup();
  const id = await conductor.invoke({ name: "record" }, { label: "keyed" }, { dedupe_key: "order-7" });
  await expect(conductor.cancel({ name: "record" }, "order-8")).resolves.toBe(false);
  await expect(conductor.cancel({ name: "record" }, "order-7", { reason: "order withdrawn" })).resolves.toBe(true);
  const row = await executionRow(db.sql, id);
  expect([row.status, row.cancel_reason]).toEqual(["cancelled", "order withdrawn"]);
  await expect(conductor.cancel({ name: "record" }, "order-7")).resolves.toBe(false);
  await expect(conductor.cancel({ name: "record" }, "" as string)).rejects.toThrow(/a dedupe key/);
});

test("a failed attempt retries after 15 s, then succeeds", async () => {
  const conductor = setup();
  let calls = 0;
  const flaky = conductor.createTask({ name: "flaky" }, { invocable: true }, async (event) => {
    calls += 1;
    if (calls <= event.payload.failTimes) throw new Error(`boom ${calls}`);
    return { calls };
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [flaky], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const id = await conductor.invoke({ name: "flaky" }, { failTimes: 1 });
  const retrying = await eventually(async () => {
    const row = await executionRow(db.sql, id);
    return row.status === "pending" && row.attempts === 1 ? row : null;
  }, { what: "first attempt to fail" });
  expect(retrying.last_error).toBe("boom 1");
  const [{ delay }] = await db.sql`select extract(epoch from run_at - now()) as delay from pgconductor.executions where id = ${id}`;
  expect(Number(delay)).toBeGreaterThan(13);
  expect(Number(delay)).toBeLessThanOrEqual(15);
  await makeDueNow(db.sql, id);
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "retry to succeed" });
  expect((await executionRow(db.sql, id)).result).toEqual({ calls: 2 });
  await orchestrator.stop();
});

test("exhausted attempts are recorded as failed with the last error and the attempt count", async () => {
  const conductor = setup();
  let calls = 0;
  const flaky = conductor.createTask({ name: "flaky", maxAttempts: 2 }, { invocable: true }, async () => {
    calls += 1;
    throw new Error(`always ${calls}`);
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [flaky], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const id = await conductor.invoke({ name: "flaky" }, { failTimes: 99 });
  await eventually(async () => (await executionRow(db.sql, id)).attempts === 1 && (await statusOf(db.sql, id)) === "pending");
  await makeDueNow(db.sql, id);
  const row = await eventually(async () => {
    const current = await executionRow(db.sql, id);
    return current.status === "failed" ? current : null;
  }, { what: "the execution to fail for good" });
  expect(row.attempts).toBe(2);
  expect(row.last_error).toBe("always 2");
  await orchestrator.stop();
});

test("drain includes work created while draining", async () => {
  const conductor = setup();
  const seen: string[] = [];
  const record = conductor.createTask({ name: "record" }, { invocable: true }, async (event) => {
    seen.push(event.payload.label);
    const depth = Number(event.payload.label.split("-")[1]);
    if (depth < 3) await conductor.invoke({ name: "record" }, { label: `chain-${depth + 1}` });
  });
  await conductor.invoke({ name: "record" }, { label: "chain-0" });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [record], handleSignals: false }));
  await orchestrator.drain();
  expect(seen).toEqual(["chain-0", "chain-1", "chain-2", "chain-3"]);
  expect(orchestrator.info.isStopped).toBe(true);
});
