/**
 * Input PostgreSQL would refuse is rejected before anything is written, with an error naming the
 * task (or call), the field and the rule, never a raw driver error.
 */
import { z } from "zod";
import { Conductor, EventSchemas, Orchestrator, PgConductorError, TaskSchemas, ValidationError, defineEvent, defineTask, listExecutions, retryExecutions } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { eventually } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "record", payload: z.object({ label: z.string() }) }),
  defineTask({ name: "loose", payload: z.any() }),
  defineTask({ name: "misuse", payload: z.object({ call: z.enum(["sleep-forever", "nul-step", "child-timeout"]) }) }),
]);
const events = EventSchemas.fromSchema([defineEvent({ name: "said", payload: z.object({ text: z.string() }) })]);

const db = useTestDatabase();

async function counts() {
  const [row] = await db.sql`
    select (select count(*) from pgconductor.executions)::int as executions,
           (select count(*) from pgconductor.events)::int as events,
           (select count(*) from pgconductor.schedules)::int as schedules`;
  return row;
}

/** Rejects with one of our errors (never the driver's) whose message matches `pattern`. */
async function rejectsClearly(call: () => Promise<unknown>, pattern: RegExp) {
  const error = await call().then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(PgConductorError);
  expect((error as Error).message).toMatch(pattern);
}

let conductor: Conductor<any, any>;
beforeAll(async () => {
  conductor = Conductor.create({ sql: db.sql, tasks, events, context: {}, logger: silentLogger });
  conductor.createTask({ name: "record" }, { invocable: true }, async () => {});
  conductor.createTask({ name: "loose" }, [{ invocable: true }, { event: "said" }], async () => {});
  conductor.createTask({ name: "misuse", maxAttempts: 1 }, { invocable: true }, async (event, ctx) => {
    if (event.payload.call === "sleep-forever") await ctx.sleep("nap", Infinity);
    if (event.payload.call === "nul-step") await ctx.step("a\u0000b", () => 1);
    if (event.payload.call === "child-timeout") await ctx.invoke("child", { name: "record" }, { label: "x" }, Number.NaN);
  });
  await conductor.ensureInstalled();
});

test("invoke options PostgreSQL would refuse name the task, the option and the rule, and write nothing", async () => {
  const before = await counts();
  const record = { name: "record" };
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { priority: 2 ** 40 }), /Task "record": priority must be an integer from -2147483648 to 2147483647 \(got 1099511627776\)/);
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { priority: -(2 ** 31) - 1 }), /Task "record": priority must be an integer/);
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { dedupe_key: "a\u0000b" }), /Task "record": dedupe_key contains the character U\+0000/);
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { run_at: new Date(-8.64e15) }), /Task "record": run_at must be in year 1 or later/);
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { throttle: { seconds: 1e20 } }), /Task "record": throttle.seconds must be at most/);
  await rejectsClearly(() => conductor.invoke(record, { label: "a" }, { debounce: { seconds: 1, maxSeconds: 1e20 } }), /Task "record": debounce.maxSeconds must be at most/);
  await rejectsClearly(() => conductor.invoke({ name: "record", queue: "q\u0000" }, { label: "a" }), /Task "record": queue contains the character U\+0000/);
  // A batch with one bad item writes none of them.
  await rejectsClearly(
    () => conductor.invoke(record, [{ payload: { label: "fine" } }, { payload: { label: "also fine" }, priority: 2 ** 40 }]),
    /Task "record": priority must be an integer/,
  );
  expect(await counts()).toEqual(before);
});

test("a payload jsonb cannot hold is a ValidationError naming the task and the path", async () => {
  const before = await counts();
  const nul = await conductor.invoke({ name: "record" }, { label: "a\u0000b" }).catch((error: unknown) => error);
  expect(nul).toBeInstanceOf(ValidationError);
  expect((nul as Error).message).toBe('Task "record": invalid payload: label: contains the character U+0000 (NUL), which PostgreSQL cannot store');
  await rejectsClearly(() => conductor.invoke({ name: "loose" }, { deep: [{ ["k\u0000"]: 1 }] }), /Task "loose": invalid payload: deep\.0\."k\\u0000": the key contains the character U\+0000/);
  await rejectsClearly(() => conductor.invoke({ name: "loose" }, { text: "\ud800" }), /Task "loose": invalid payload: text: contains a lone UTF-16 surrogate/);
  await rejectsClearly(() => conductor.invoke({ name: "loose" }, { n: { big: 10n } }), /Task "loose": invalid payload: n\.big: cannot be stored as JSON/);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  await rejectsClearly(() => conductor.invoke({ name: "loose" }, cycle), /Task "loose": invalid payload: self: cannot be stored as JSON/);
  await rejectsClearly(() => conductor.emit("said", { text: "x\u0000" }), /Event "said": invalid payload: text: contains the character U\+0000/);
  await rejectsClearly(() => conductor.schedule({ name: "record" }, "s\u0000", { cron: "* * * * *" }), /schedule of task "record": the schedule name contains the character U\+0000/);
  await rejectsClearly(() => conductor.schedule({ name: "record" }, "nightly", { cron: "0 3 * * *" }, { label: "\u0000" }), /Task "record": invalid payload: label/);
  expect(await counts()).toEqual(before);
});

test("id-taking calls reject a malformed id naming the call and the rule", async () => {
  const id = await conductor.invoke({ name: "record" }, { label: "to cancel" });
  const before = await counts();
  await rejectsClearly(() => conductor.cancel("abc"), /^cancel: the execution id must be a UUID, got "abc"$/);
  await rejectsClearly(() => conductor.cancel(id, { reason: "why\u0000" }), /cancel: reason contains the character U\+0000/);
  await rejectsClearly(() => conductor.cancel({ name: "record" }, "key\u0000"), /cancel\("record"\): the dedupe key contains the character U\+0000/);
  await rejectsClearly(() => conductor.getExecution("abc"), /getExecution: the execution id must be a UUID/);
  await rejectsClearly(() => conductor.result("abc"), /result: the execution id must be a UUID/);
  await rejectsClearly(() => retryExecutions(db.sql, ["abc"]), /retryExecutions: "abc" is not an execution id/);
  await rejectsClearly(() => listExecutions(db.sql, { search: "x\u0000" }), /listExecutions: search contains the character U\+0000/);
  await rejectsClearly(() => listExecutions(db.sql, { task: "x\u0000" }), /listExecutions: task contains the character U\+0000/);
  await rejectsClearly(() => conductor.pause({ queue: "q\u0000" }), /pause: queue contains the character U\+0000/);
  expect(await counts()).toEqual(before);
  const [row] = await db.sql`select status, cancel_requested from pgconductor.executions where id = ${id}`;
  expect(row).toEqual({ status: "pending", cancel_requested: false });
});

test("ctx calls PostgreSQL would refuse fail the attempt with an error naming the call, the field and the rule", async () => {
  const orchestrator = Orchestrator.create({ conductor, tasks: [conductor.tasks.get("misuse")!], handleSignals: false });
  await orchestrator.start();
  try {
    const expected = {
      "sleep-forever": /^Sleep "nap": ms must be a number of milliseconds from 0 to 3155760000000 \(100 years\) \(got Infinity\)$/,
      "nul-step": /^ctx.step: the step name contains the character U\+0000/,
      "child-timeout": /^Child invoke "child": timeoutMs must be a number of milliseconds/,
    } as const;
    for (const [call, pattern] of Object.entries(expected)) {
      const id = await conductor.invoke({ name: "misuse" }, { call: call as keyof typeof expected });
      const row = await eventuallyFailed(id);
      expect([call, row.last_error]).toEqual([call, expect.stringMatching(pattern)]);
    }
    const [children] = await db.sql`select count(*)::int as n from pgconductor.executions where parent_id is not null`;
    expect(children.n).toBe(0);
  } finally {
    await orchestrator.stop();
  }
});

async function eventuallyFailed(id: string) {
  return eventually(async () => {
    const [row] = await db.sql`select status, last_error from pgconductor.executions where id = ${id}`;
    return row.status === "failed" ? row : null;
  }, { what: `execution ${id} to fail` });
}
