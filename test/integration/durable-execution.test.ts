import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask, isInterruption } from "pgconductor-js";
import { createConsoleLogger, silentLogger } from "../../src/model/logger";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { deferred, eventually, executionRow, hour, makeDueNow, statusOf, trackOrchestrators } from "../support/helpers";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "steps", payload: z.object({ failOnce: z.boolean() }) }),
  defineTask({ name: "sleeper", payload: z.object({ ms: z.number() }) }),
  defineTask({ name: "parent", payload: z.object({ mode: z.enum(["ok", "fail", "timeout", "chain", "sequential"]) }) }),
  defineTask({ name: "child", payload: z.object({ mode: z.string(), n: z.number() }), returns: z.object({ doubled: z.number() }) }),
  defineTask({ name: "grandchild", payload: z.object({ n: z.number() }), returns: z.number() }),
  defineTask({ name: "long", payload: z.object({}) }),
  defineTask({ name: "odd-steps", payload: z.object({ kind: z.string() }) }),
]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table side_effects (execution_id uuid, name text, at timestamptz default clock_timestamp())`;
});
afterAll(async () => db.drop());

const conductorFor = () => Conductor.create({ sql: db.sql, tasks, context: { greeting: "hi" }, logger: process.env.TEST_LOG ? createConsoleLogger("debug") : silentLogger });
const effect = (executionId: string, name: string) => db.sql`insert into side_effects (execution_id, name) values (${executionId}, ${name})`;
const effects = async (executionId: string) =>
  (await db.sql<{ name: string }[]>`select name from side_effects where execution_id = ${executionId} order by at`).map((r) => r.name);
const waitForStatus = (id: string, status: string) => eventually(async () => (await statusOf(db.sql, id)) === status, { what: `${id} to be ${status}` });

test("completed steps are not re-run when a later part throws and the execution retries", async () => {
  const conductor = conductorFor();
  let attempt = 0;
  const steps = conductor.createTask({ name: "steps" }, { invocable: true }, async (event, ctx) => {
    attempt += 1;
    const a = await ctx.step("a", async () => {
      await effect(ctx.executionId, "a");
      return { value: 1 };
    });
    const nothing = await ctx.step("b", async () => {
      await effect(ctx.executionId, "b");
    });
    if (event.payload.failOnce && attempt === 1) throw new Error("after b");
    await ctx.step("c", () => effect(ctx.executionId, "c").then(() => null));
    return { a: a.value, nothing: nothing === undefined, greeting: ctx.greeting };
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [steps], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const id = await conductor.invoke({ name: "steps" }, { failOnce: true });
  await eventually(async () => (await executionRow(db.sql, id)).last_error === "after b");
  await makeDueNow(db.sql, id);
  await waitForStatus(id, "completed");
  expect(await effects(id)).toEqual(["a", "b", "c"]);
  expect((await executionRow(db.sql, id)).result).toEqual({ a: 1, nothing: true, greeting: "hi" });
});

test("a step value that cannot be stored as JSON, and a repeated step name, fail with errors naming the step", async () => {
  const conductor = conductorFor();
  const odd = conductor.createTask({ name: "odd-steps", maxAttempts: 1 }, { invocable: true }, async (event, ctx) => {
    if (event.payload.kind === "bigint") await ctx.step("big", () => BigInt(1));
    await ctx.step("twice", () => 1);
    await ctx.step("twice", () => 2);
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [odd], handleSignals: false }));
  const big = await conductor.invoke({ name: "odd-steps" }, { kind: "bigint" });
  const twice = await conductor.invoke({ name: "odd-steps" }, { kind: "twice" });
  await orchestrator.drain();
  expect((await executionRow(db.sql, big)).last_error).toMatch(/Step "big" returned a value that cannot be stored as JSON/);
  expect((await executionRow(db.sql, twice)).last_error).toMatch(/Step "twice" is used twice/);
});

test("sleep hangs up, frees the slot, and resumes by the timer with an hour-long sweep", async () => {
  const conductor = conductorFor();
  const log: string[] = [];
  const sleeper = conductor.createTask({ name: "sleeper" }, { invocable: true }, async (event, ctx) => {
    await ctx.step("before", () => log.push(`before ${event.payload.ms}`));
    try {
      await ctx.sleep("nap", event.payload.ms);
    } catch (error) {
      // A catch-all in user code: the sleep's hang-up must pass through it.
      if (isInterruption(error)) throw error;
      log.push("swallowed");
    }
    await ctx.step("after", () => log.push(`after ${event.payload.ms}`));
  });
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [sleeper], defaultWorker: { pollIntervalMs: hour, concurrency: 1 }, handleSignals: false }),
  );
  await orchestrator.start();
  const sleepy = await conductor.invoke({ name: "sleeper" }, { ms: 2000 });
  // With one slot, a second execution can only run while the first sleeps.
  await eventually(async () => (await executionRow(db.sql, sleepy)).run_at > new Date(Date.now() + 500), { what: "the sleep to hang up" });
  const quick = await conductor.invoke({ name: "sleeper" }, { ms: 0 });
  await waitForStatus(quick, "completed");
  expect(await statusOf(db.sql, sleepy)).toBe("pending");
  await waitForStatus(sleepy, "completed");
  expect(log).toEqual(["before 2000", "before 0", "after 0", "after 2000"]);
  const row = await executionRow(db.sql, sleepy);
  expect(row.attempts).toBe(1); // hanging up is not a failed attempt
});

describe("child executions", () => {
  function createFamily(conductor: ReturnType<typeof conductorFor>) {
    const parent = conductor.createTask({ name: "parent" }, { invocable: true }, async (event, ctx) => {
      const mode = event.payload.mode;
      if (mode === "sequential") {
        const first = await ctx.invoke("first", { name: "child" }, { mode: "ok", n: 1 });
        const second = await ctx.invoke({ name: "child" }, { mode: "ok", n: first.doubled });
        return { total: second.doubled };
      }
      if (mode === "timeout") return ctx.invoke("slow", { name: "child" }, { mode: "hang", n: 1 }, 500);
      const childMode = mode === "chain" ? "chain" : mode === "fail" ? "fail" : "ok";
      return ctx.invoke("only", { name: "child" }, { mode: childMode, n: 21 });
    });
    const hang = deferred();
    const child = conductor.createTask({ name: "child", maxAttempts: 1 }, { invocable: true }, async (event, ctx) => {
      if (event.payload.mode === "fail") throw new Error("child broke");
      if (event.payload.mode === "hang") await hang.promise;
      if (event.payload.mode === "chain") return { doubled: await ctx.invoke("grand", { name: "grandchild" }, { n: event.payload.n }) };
      return { doubled: event.payload.n * 2 };
    });
    const grandchild = conductor.createTask({ name: "grandchild" }, { invocable: true }, async (event) => event.payload.n * 3);
    return { tasks: [parent, child, grandchild], releaseHang: () => hang.resolve() };
  }

  test("a parent gets its child's typed result, woken promptly with an hour-long sweep", async () => {
    const conductor = conductorFor();
    const family = createFamily(conductor);
    const orchestrator = track(Orchestrator.create({ conductor, tasks: family.tasks, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
    await orchestrator.start();
    const id = await conductor.invoke({ name: "parent" }, { mode: "ok" });
    await waitForStatus(id, "completed");
    expect((await executionRow(db.sql, id)).result).toEqual({ doubled: 42 });
    const children = await db.sql`select status from pgconductor.executions where parent_id = ${id}`;
    expect(children.map((c) => c.status)).toEqual(["completed"]);
  });

  test("chains and sequential children work", async () => {
    const conductor = conductorFor();
    const family = createFamily(conductor);
    const orchestrator = track(Orchestrator.create({ conductor, tasks: family.tasks, handleSignals: false }));
    const chain = await conductor.invoke({ name: "parent" }, { mode: "chain" });
    const sequential = await conductor.invoke({ name: "parent" }, { mode: "sequential" });
    await orchestrator.drain();
    expect((await executionRow(db.sql, chain)).result).toEqual({ doubled: 63 });
    expect((await executionRow(db.sql, sequential)).result).toEqual({ total: 4 });
  });

  test("a child that fails for good fails the parent; a timeout fails the parent while the child runs on", async () => {
    const conductor = conductorFor();
    const family = createFamily(conductor);
    const orchestrator = track(Orchestrator.create({ conductor, tasks: family.tasks, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
    await orchestrator.start();
    const failing = await conductor.invoke({ name: "parent" }, { mode: "fail" });
    const slow = await conductor.invoke({ name: "parent" }, { mode: "timeout" });
    await waitForStatus(failing, "failed");
    expect((await executionRow(db.sql, failing)).last_error).toBe("Child execution failed: child broke");
    await waitForStatus(slow, "failed");
    expect((await executionRow(db.sql, slow)).last_error).toMatch(/timed out after 500 ms/);
    const [child] = await db.sql`select id, status from pgconductor.executions where parent_id = ${slow}`;
    expect(child.status).toBe("running");
    family.releaseHang();
    await waitForStatus(child.id, "completed");
  });
});

describe("cancellation", () => {
  test("cancel of a running execution aborts ctx.signal and stops it at the next step; finished ones return false", async () => {
    const conductor = conductorFor();
    const inFirstStep = deferred();
    const proceed = deferred();
    let aborted = false;
    const long = conductor.createTask({ name: "long" }, { invocable: true }, async (_event, ctx) => {
      await ctx.step("one", async () => {
        ctx.signal.addEventListener("abort", () => (aborted = true));
        inFirstStep.resolve();
        await proceed.promise;
      });
      await ctx.step("two", () => effect(ctx.executionId, "two"));
    });
    const orchestrator = track(Orchestrator.create({ conductor, tasks: [long], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
    await orchestrator.start();
    const id = await conductor.invoke({ name: "long" }, {});
    await inFirstStep.promise;
    await expect(conductor.cancel(id, { reason: "user asked" })).resolves.toBe(true);
    await eventually(() => aborted, { what: "ctx.signal to abort" });
    proceed.resolve();
    await waitForStatus(id, "cancelled");
    expect(await effects(id)).toEqual([]);
    expect((await executionRow(db.sql, id)).cancel_reason).toBe("user asked");
    await expect(conductor.cancel(id)).resolves.toBe(false);
  });

  test("cancelling a parent cancels its waiting child", async () => {
    const conductor = conductorFor();
    const childStarted = deferred();
    const parent = conductor.createTask({ name: "parent" }, { invocable: true }, async (_event, ctx) =>
      ctx.invoke("only", { name: "child" }, { mode: "wait", n: 1 }),
    );
    const child = conductor.createTask({ name: "child" }, { invocable: true }, async (_event, ctx) => {
      childStarted.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      await ctx.checkpoint();
      return { doubled: 0 };
    });
    const orchestrator = track(Orchestrator.create({ conductor, tasks: [parent, child], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
    await orchestrator.start();
    const id = await conductor.invoke({ name: "parent" }, { mode: "ok" });
    await childStarted.promise;
    await expect(conductor.cancel(id, { reason: "whole order" })).resolves.toBe(true);
    const [childRow] = await db.sql`select id from pgconductor.executions where parent_id = ${id}`;
    await waitForStatus(childRow.id, "cancelled");
    expect(await statusOf(db.sql, id)).toBe("cancelled");
  });
});

test("stop during a long step releases the execution; another orchestrator finishes it without repeating completed steps", async () => {
  const conductor = conductorFor();
  const inSecondStep = deferred();
  const finishSecond = deferred();
  const long = conductor.createTask({ name: "long" }, { invocable: true }, async (_event, ctx) => {
    await ctx.step("one", () => effect(ctx.executionId, "one"));
    await ctx.step("two", async () => {
      inSecondStep.resolve();
      await finishSecond.promise;
      await effect(ctx.executionId, "two");
    });
    await ctx.step("three", () => effect(ctx.executionId, "three"));
  });
  const first = track(Orchestrator.create({ conductor, tasks: [long], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await first.start();
  const id = await conductor.invoke({ name: "long" }, {});
  await inSecondStep.promise;
  const stopping = first.stop();
  expect(first.info.isShuttingDown).toBe(true);
  finishSecond.resolve();
  await stopping;
  await first.stopped;
  const released = await executionRow(db.sql, id);
  expect(released.status).toBe("pending");
  expect(await effects(id)).toEqual(["one", "two"]);

  const second = track(Orchestrator.create({ conductor, tasks: [long], handleSignals: false }));
  await second.drain();
  expect(await statusOf(db.sql, id)).toBe("completed");
  expect(await effects(id)).toEqual(["one", "two", "three"]);
});
