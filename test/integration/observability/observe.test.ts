import { z } from "zod";
import type { Subscription } from "rxjs";
import {
  Conductor, Orchestrator, TaskSchemas, defineTask, ExecutionFailedError, ExecutionCancelledError, ResultTimeoutError,
  type ExecutionEvent,
} from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { OBSERVER_APPLICATION_NAME } from "../../../src/api/observability";
import { useTestDatabase } from "../../support/database";
import { deferred, eventually, hour, makeDueNow, trackOrchestrators } from "../../support/helpers";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "flaky", payload: z.object({ failTimes: z.number() }), returns: z.object({ calls: z.number() }) }),
  defineTask({ name: "blocker", payload: z.object({}) }),
  defineTask({ name: "echo", payload: z.object({ text: z.string() }), returns: z.object({ text: z.string() }) }),
  defineTask({ name: "broken", payload: z.object({}) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();
const subscriptions: Subscription[] = [];
const conductors: Conductor<any, any, any>[] = [];
afterEach(async () => {
  subscriptions.splice(0).forEach((s) => s.unsubscribe());
  // close() waits for observer connections to end and their registrations to go.
  await Promise.all(conductors.splice(0).map((conductor) => conductor.close()));
});

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductors.push(conductor);
  let flakyCalls = 0;
  const flaky = conductor.createTask({ name: "flaky" }, { invocable: true }, async (event) => {
    flakyCalls += 1;
    if (flakyCalls <= event.payload.failTimes) throw new Error(`boom ${flakyCalls}`);
    return { calls: flakyCalls };
  });
  const blocker = conductor.createTask({ name: "blocker" }, { invocable: true }, async (_event, ctx) => {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    throw new Error("stopped");
  });
  const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (event) => ({ text: event.payload.text }));
  const broken = conductor.createTask({ name: "broken", maxAttempts: 1 }, { invocable: true }, async () => {
    throw new Error("the handler broke");
  });
  const orchestrator = () =>
    track(Orchestrator.create({ conductor, tasks: [flaky, blocker, echo, broken], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator };
}

/** Collects the events of an observation; resolves `until` once a predicate holds. */
function collect(source: ReturnType<Conductor["observe"]>) {
  const events: ExecutionEvent[] = [];
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  subscriptions.push(
    source.subscribe((event) => {
      events.push(event);
      for (const waiter of waiters.splice(0)) (waiter.check() ? waiter.resolve : () => waiters.push(waiter))();
    }),
  );
  const until = (check: (events: ExecutionEvent[]) => boolean) => {
    const done = deferred();
    const waiter = { check: () => check(events), resolve: () => done.resolve() };
    if (waiter.check()) done.resolve();
    else waiters.push(waiter);
    return done.promise;
  };
  return { events, until };
}

const observerBackends = async () =>
  (await db.sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = ${OBSERVER_APPLICATION_NAME}`)[0].n;

/** Subscribed and registered: transitions from now on are announced. */
async function registered(conductor: Conductor<any, any, any>) {
  await eventually(async () => (await db.sql`select 1 from pgconductor.observers`).length > 0, { what: "the observer to register" });
  void conductor;
}

test("events arrive in order over a life cycle with a retry, with attempt, error and result", async () => {
  const { conductor, orchestrator } = setup();
  const { events, until } = collect(conductor.observe({ task: "flaky" }));
  await registered(conductor);
  await orchestrator().start();
  const id = await conductor.invoke({ name: "flaky" }, { failTimes: 1 });
  await until((list) => list.some((e) => e.kind === "retrying"));
  await makeDueNow(db.sql, id);
  await until((list) => list.some((e) => e.kind === "completed"));
  const mine = events.filter((e) => e.executionId === id);
  expect(mine.map((e) => `${e.kind}#${e.attempt}`)).toEqual(["created#0", "started#1", "retrying#1", "started#2", "completed#2"]);
  expect(mine.every((e) => e.task === "flaky" && e.queue === "default" && e.at instanceof Date)).toBe(true);
  expect(mine[2].error).toBe("boom 1");
  expect(mine[4].result).toEqual({ calls: 2 });
  const times = mine.map((e) => e.at.getTime());
  expect([...times].sort((a, b) => a - b)).toEqual(times);
});

test("a cancelled execution: pending ones at once, running ones when they stop", async () => {
  const { conductor, orchestrator } = setup();
  const { events, until } = collect(conductor.observe({ task: ["blocker", "echo"] }));
  await registered(conductor);
  const later = await conductor.invoke({ name: "echo" }, { text: "never" }, { run_at: new Date(Date.now() + hour) });
  await conductor.cancel(later, { reason: "not needed" });
  await orchestrator().start();
  const running = await conductor.invoke({ name: "blocker" }, {});
  await until((list) => list.some((e) => e.executionId === running && e.kind === "started"));
  await conductor.cancel(running, { reason: "stop it" });
  await until((list) => list.some((e) => e.executionId === running && e.kind === "cancelled"));
  expect(events.filter((e) => e.executionId === later).map((e) => [e.kind, e.error])).toEqual([["created", undefined], ["cancelled", "not needed"]]);
  expect(events.filter((e) => e.executionId === running).map((e) => [e.kind, e.error])).toEqual([
    ["created", undefined], ["started", undefined], ["cancelled", "stop it"],
  ]);
  await expect(conductor.result(running)).rejects.toThrow(ExecutionCancelledError);
  await expect(conductor.result(running)).rejects.toThrow(/cancelled: stop it/);
});

test("result resolves for an execution that finished before the call and for one that finishes after", async () => {
  const { conductor, orchestrator } = setup();
  const done = await conductor.invoke({ name: "echo" }, { text: "before" });
  await orchestrator().drain();
  await expect(conductor.result(done, { task: "echo" })).resolves.toEqual({ text: "before" });

  const id = await conductor.invoke({ name: "echo" }, { text: "after" });
  const waiting = conductor.result<{ text: string }>(id);
  await registered(conductor);
  await orchestrator().start();
  await expect(waiting).resolves.toEqual({ text: "after" });
});

test("result times out with an error naming the execution, and the execution goes on", async () => {
  const { conductor } = setup();
  const id = await conductor.invoke({ name: "echo" }, { text: "nobody runs me" });
  await expect(conductor.result(id, { timeoutMs: 50 })).rejects.toThrow(ResultTimeoutError);
  await expect(conductor.result(id, { timeoutMs: 50 })).rejects.toThrow(id);
  await expect(conductor.result("not-a-uuid")).rejects.toThrow(/UUID/);
  await expect(conductor.result("00000000-0000-0000-0000-000000000000")).rejects.toThrow(/No execution with id/);
  await db.sql`delete from pgconductor.executions where id = ${id}`;
});

test("invokeAndWait resolves with the result and rejects with the handler's error", async () => {
  const { conductor, orchestrator } = setup();
  await orchestrator().start();
  await expect(conductor.invokeAndWait({ name: "echo" }, { text: "hi" })).resolves.toEqual({ text: "hi" });
  const failing = conductor.invokeAndWait({ name: "broken" }, {});
  await expect(failing).rejects.toThrow(ExecutionFailedError);
  await expect(failing).rejects.toThrow("the handler broke");
});

test("unsubscribing closes the listen connection and removes the registration", async () => {
  const { conductor } = setup();
  await eventually(async () => (await observerBackends()) === 0, { what: "earlier observers to close" });
  const first = conductor.observe().subscribe();
  const second = conductor.observe({ task: "echo" }).subscribe();
  await registered(conductor);
  expect(await observerBackends()).toBe(1); // one LISTEN connection, however many observe
  first.unsubscribe();
  expect(await observerBackends()).toBe(1);
  second.unsubscribe();
  await conductor.close(); // waits for the observer connection to end (the shared sql stays open)
  // The server ends the backend a moment after the client closed its socket.
  await eventually(async () => (await observerBackends()) === 0, { what: "the observer backend to exit" });
  expect((await db.sql`select * from pgconductor.observers`).length).toBe(0);
});

test("nothing is announced while nobody observes", async () => {
  const { conductor, orchestrator } = setup();
  await eventually(async () => (await db.sql`select 1 from pgconductor.observers`).length === 0, { what: "no observers" });
  const heard: string[] = [];
  const raw = await db.sql.listen("pgconductor_events", (payload) => heard.push(payload));
  const unobserved = await conductor.invoke({ name: "echo" }, { text: "quiet" });
  await orchestrator().drain();
  const { until } = collect(conductor.observe({ task: "echo" }));
  await registered(conductor);
  const observed = await conductor.invoke({ name: "echo" }, { text: "loud" });
  await until((list) => list.some((e) => e.executionId === observed && e.kind === "created"));
  await eventually(() => heard.some((payload) => payload.includes(observed)), { what: "the raw listener to hear it" });
  // Notifications arrive in commit order: had the first execution been announced, it would be here.
  expect(heard.join("\n")).not.toContain(unobserved);
  await raw.unlisten();
});

test("a batch is announced in as many notifications as the payload cap needs, in order", async () => {
  const { conductor } = setup();
  const heard: string[] = [];
  const raw = await db.sql.listen("pgconductor_events", (payload) => heard.push(payload));
  const { events, until } = collect(conductor.observe({ kind: "created" }));
  await registered(conductor);
  const ids = await conductor.invoke({ name: "echo" }, Array.from({ length: 300 }, (_, i) => ({ payload: { text: `n${i}` } })));
  await until((list) => list.filter((e) => ids.includes(e.executionId)).length === 300);
  expect(events.filter((e) => ids.includes(e.executionId)).map((e) => e.executionId)).toEqual(ids);
  await eventually(() => heard.filter((p) => ids.some((id) => p.includes(id))).length > 1, { what: "several notifications" });
  expect(Math.max(...heard.map((p) => Buffer.byteLength(p)))).toBeLessThan(8000);
  await raw.unlisten();
  await db.sql`delete from pgconductor.executions where id = any(${ids})`;
});

test("a big result is read from the table; history replays what the tables know", async () => {
  const { conductor, orchestrator } = setup();
  const text = "x".repeat(10_000);
  const id = await conductor.invoke({ name: "echo" }, { text });
  const live = collect(conductor.observe({ executionId: id }));
  await registered(conductor);
  await orchestrator().start();
  await live.until((list) => list.some((e) => e.kind === "completed"));
  expect(live.events.find((e) => e.kind === "completed")!.result).toEqual({ text });

  const late = collect(conductor.observe({ executionId: id, history: true }));
  await late.until((list) => list.some((e) => e.kind === "completed"));
  expect(late.events.map((e) => [e.kind, e.attempt, e.replayed])).toEqual([["created", 0, true], ["started", 1, true], ["completed", 1, true]]);
  expect(late.events[2].result).toEqual({ text });
  // The replay and the live stream describe the same transitions at the same times.
  expect(late.events.slice(1).map((e) => e.at.getTime())).toEqual(live.events.map((e) => e.at.getTime()));
});

test("getExecution reports state, attempts, steps and children", async () => {
  const { conductor, orchestrator } = setup();
  await orchestrator().start();
  const failed = await conductor.invoke({ name: "broken" }, {});
  await expect(conductor.result(failed)).rejects.toThrow("the handler broke");
  const info = await conductor.getExecution(failed);
  expect(info).toMatchObject({ id: failed, task: "broken", queue: "default", status: "failed", attempts: 1, maxAttempts: 1, lastError: "the handler broke", steps: [], childIds: [], parentId: null });
  expect(info!.finishedAt).toBeInstanceOf(Date);
  await expect(conductor.getExecution("00000000-0000-0000-0000-000000000000")).resolves.toBeNull();
  await expect(conductor.getExecution("nope")).rejects.toThrow(/UUID/);
});

test("claims of concurrency-limited tasks and releases are announced too", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductors.push(conductor);
  const running = deferred();
  const proceed = deferred();
  const limited = conductor.createTask({ name: "blocker", concurrency: 1 }, { invocable: true }, async () => {
    running.resolve();
    await proceed.promise;
    return "done";
  });
  const { events, until } = collect(conductor.observe({ task: "blocker" }));
  await registered(conductor);
  await track(Orchestrator.create({ conductor, tasks: [limited], defaultWorker: { pollIntervalMs: hour }, handleSignals: false })).start();
  const id = await conductor.invoke({ name: "blocker" }, {});
  await running.promise;
  // What a graceful stop does to an execution that reaches a checkpoint: hand it back uncounted.
  await db.sql`select pgconductor.release(array[${id}]::uuid[])`;
  proceed.resolve();
  await until((list) => list.some((e) => e.kind === "completed"));
  expect(events.filter((e) => e.executionId === id).map((e) => `${e.kind}#${e.attempt}`)).toEqual([
    "created#0", "started#1", "released#0", "started#1", "completed#1",
  ]);
});

test("conductor.close() completes open observations and closes their connection", async () => {
  const { conductor } = setup();
  const completed = deferred();
  conductor.observe().subscribe({ complete: () => completed.resolve() });
  const waiting = conductor.result(await conductor.invoke({ name: "echo" }, { text: "nobody runs me" }));
  await registered(conductor);
  expect(await observerBackends()).toBe(1);
  await conductor.close();
  await completed.promise;
  await expect(waiting).rejects.toThrow(/Stopped waiting for execution .*: the Conductor was closed/);
  expect(await observerBackends()).toBe(0);
  expect((await db.sql`select * from pgconductor.observers`).length).toBe(0);
});
