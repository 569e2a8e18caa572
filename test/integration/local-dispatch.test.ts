/**
 * Orchestrator option localDispatch (on by default): a single invoke meeting an idle worker of this process is
 * written already claimed and starts without a notification and a claim. Whether an execution took
 * that path is read from its row: the fast path sets started_at in the invoke's own transaction, so
 * it equals created_at to the microsecond; a claim is a later transaction, so its started_at is later.
 */
import { z } from "zod";
import type { Sql } from "postgres";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import type { ExecutionEvent } from "../../src/model/execution-event";
import { useTestDatabase } from "../support/database";
import { deferred, eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "echo", payload: z.object({ n: z.number() }), returns: z.object({ n: z.number() }) }),
  defineTask({ name: "hold", payload: z.object({ n: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

async function tookFastPath(sql: Sql, id: string): Promise<boolean> {
  const [row] = await sql<{ fast: boolean }[]>`
    select coalesce(started_at = created_at, false) as fast from pgconductor.executions where id = ${id}`;
  return row.fast;
}

async function finished(sql: Sql, ids: readonly string[]): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pgconductor.executions where id = any (${ids as string[]}::uuid[]) and status = 'completed'`;
  return row.n === ids.length;
}

/** Invokes until one call takes the fast path: the worker is idle only once its first claim found nothing. */
async function invokeWhenIdle(conductor: Conductor<any>, name: string, n: number): Promise<string> {
  return eventually(
    async () => {
      const id = (await conductor.invoke({ name } as never, { n } as never)) as unknown as string;
      return (await tookFastPath(db.sql, id)) ? id : null;
    },
    { what: "an invoke to take the local fast path" },
  );
}

afterEach(async () => {
  await db.sql`delete from pgconductor.executions`;
});

test("an invoke meeting an idle local worker runs once, announced created, started, completed", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const runs = new Map<number, number>();
  const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (event) => {
    runs.set(event.payload.n, (runs.get(event.payload.n) ?? 0) + 1);
    return { n: event.payload.n };
  });
  // localDispatch is on by default.
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [echo], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  const warm = await invokeWhenIdle(conductor, "echo", 0);
  await eventually(() => finished(db.sql, [warm]), { what: "the warm-up execution to complete" });

  const events: ExecutionEvent[] = [];
  const subscription = conductor.observe({ task: "echo" }).subscribe((event) => events.push(event));
  try {
    // observe() announces nothing until its LISTEN is up: wait for an event of a plain execution.
    await eventually(
      async () => {
        const probe = await conductor.invoke({ name: "echo" }, { n: -1 }, { dedupe_key: `probe-${Date.now()}` });
        await eventually(() => finished(db.sql, [probe]), { what: "a probe to complete" });
        return events.some((event) => event.executionId === probe && event.kind === "completed");
      },
      { what: "observe() to be listening" },
    );
    const id = await invokeWhenIdle(conductor, "echo", 1);
    expect(await conductor.result(id)).toEqual({ n: 1 });
    await eventually(() => events.some((event) => event.executionId === id && event.kind === "completed"), { what: "the completed event" });
    expect(events.filter((event) => event.executionId === id).map((event) => `${event.kind}#${event.attempt}`)).toEqual(["created#0", "started#1", "completed#1"]);
    const [row] = await db.sql`select attempts, locked_by, status from pgconductor.executions where id = ${id}`;
    expect(row).toEqual({ attempts: 1, locked_by: null, status: "completed" });
    expect(runs.get(1)).toBe(1);
  } finally {
    subscription.unsubscribe();
  }
});

test("the worker's concurrency holds: invokes beyond its free slots wait as usual, none runs twice", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const gate = deferred();
  let running = 0;
  let most = 0;
  const runs = new Map<number, number>();
  const hold = conductor.createTask({ name: "hold" }, { invocable: true }, async (event) => {
    runs.set(event.payload.n, (runs.get(event.payload.n) ?? 0) + 1);
    running += 1;
    most = Math.max(most, running);
    if (event.payload.n > 0) await gate.promise;
    running -= 1;
  });
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [hold], localDispatch: true, defaultWorker: { concurrency: 2, pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  const warm = await invokeWhenIdle(conductor, "hold", 0);
  await eventually(() => finished(db.sql, [warm]), { what: "the warm-up execution to complete" });
  await eventually(async () => {
    // Idle again once the claim after the completion found nothing.
    const id = await conductor.invoke({ name: "hold" }, { n: 1 });
    return (await tookFastPath(db.sql, id)) || (await db.sql`delete from pgconductor.executions where id = ${id} and status = 'pending'`, false);
  }, { what: "the first held execution to take the fast path" });

  const ids = [];
  for (let n = 2; n <= 6; n++) ids.push(await conductor.invoke({ name: "hold" }, { n }));
  await eventually(() => running === 2, { what: "two held executions to run" });
  const fast = await Promise.all(ids.map((id) => tookFastPath(db.sql, id)));
  // The second slot may be filled by the fast path or by a claim; nothing beyond it can be fast.
  expect(fast.slice(1)).toEqual([false, false, false, false]);
  gate.resolve();
  const all = (await db.sql<{ id: string }[]>`select id from pgconductor.executions where task_key = 'hold'`).map((row) => row.id);
  await eventually(() => finished(db.sql, all), { what: "every held execution to complete" });
  expect(most).toBe(2);
  expect([...runs.entries()].filter(([, count]) => count !== 1)).toEqual([]);
  expect(runs.size).toBe(all.length);
});

test("only a single plain invoke outside a transaction is offered to local workers", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const offered: string[] = [];
  const detach = conductor.attachLocalDispatch({ reserve: (_queue, taskKey) => (offered.push(taskKey), null) });
  try {
    await conductor.invoke({ name: "echo" }, { n: 1 });
    expect(offered).toEqual(["echo"]);
    await conductor.invoke({ name: "echo" }, { n: 2 }, { dedupe_key: "two" });
    await conductor.invoke({ name: "echo" }, { n: 3 }, { run_at: new Date(Date.now() - 1000) });
    await conductor.invoke({ name: "echo" }, { n: 4 }, { throttle: { seconds: 1 }, dedupe_key: "four" });
    await conductor.invoke({ name: "echo" }, [{ payload: { n: 5 } }]);
    await db.sql.begin((sql) => conductor.invoke({ name: "echo" }, { n: 6 }, { sql }));
    expect(offered).toEqual(["echo"]);
    // Nothing took them (the dispatcher declined): all wait as usual.
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from pgconductor.executions where status = 'pending'`;
    expect(row.n).toBe(6);
  } finally {
    detach();
  }
});

test("a stopped orchestrator takes no invoke", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (event) => ({ n: event.payload.n }));
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [echo], localDispatch: true, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  const warm = await invokeWhenIdle(conductor, "echo", 0);
  await eventually(() => finished(db.sql, [warm]), { what: "the warm-up execution to complete" });
  await orchestrator.stop();
  const afterStop = await conductor.invoke({ name: "echo" }, { n: 5 });
  const [row] = await db.sql`select status from pgconductor.executions where id = ${afterStop}`;
  expect(row.status).toBe("pending");
});

test("with localDispatch: false every invoke takes the usual path", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (event) => ({ n: event.payload.n }));
  const orchestrator = track(
    Orchestrator.create({ conductor, tasks: [echo], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  const ids = [];
  for (let n = 0; n < 5; n++) {
    const id = await conductor.invoke({ name: "echo" }, { n });
    await eventually(() => finished(db.sql, [id]), { what: `execution ${n} to complete` });
    ids.push(id);
  }
  expect(await Promise.all(ids.map((id) => tookFastPath(db.sql, id)))).toEqual([false, false, false, false, false]);
});
