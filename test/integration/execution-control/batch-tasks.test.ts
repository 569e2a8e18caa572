import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "square", payload: z.object({ n: z.number() }), returns: z.number() }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();
afterEach(async () => {
  await db.sql`delete from pgconductor.executions`;
});

const rowsOf = (ids: string[]) =>
  db.sql<{ id: string; status: string; result: unknown; last_error: string | null; attempts: number }[]>`
    select id, status, result, last_error, attempts from pgconductor.executions where id = any(${ids})`;
const allIn = (ids: string[], status: string) => async () => (await rowsOf(ids)).filter((row) => row.status === status).length === ids.length;

function start(batch: { size: number; timeoutMs: number }, handler: (events: { payload: { n: number } }[], ctx: any) => unknown) {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: { unit: "ctx-value" }, logger: silentLogger });
  conductor.createTask({ name: "square", batch }, { invocable: true }, handler as never);
  const orchestrator = track(Orchestrator.create({ conductor, defaultWorker: { concurrency: 20, pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator };
}

test("a full batch runs at once, with ctx { logger, signal, ...context }, and results map to their executions in order", async () => {
  const sizes: number[] = [];
  let seenCtx: any;
  const { conductor, orchestrator } = start({ size: 4, timeoutMs: 60_000 }, async (events, ctx) => {
    sizes.push(events.length);
    seenCtx = ctx;
    return events.map((event) => event.payload.n * event.payload.n);
  });
  await orchestrator.start();
  const ids = await conductor.invoke({ name: "square" }, [2, 3, 4, 5].map((n) => ({ payload: { n } })));
  // The timeout is a minute away: only a full batch can have run.
  await eventually(allIn(ids, "completed"), { what: "the batch of four" });
  const byId = new Map((await rowsOf(ids)).map((row) => [row.id, row.result]));
  expect(ids.map((id) => byId.get(id))).toEqual([4, 9, 16, 25]);
  expect(sizes).toEqual([4]);
  expect(seenCtx.unit).toBe("ctx-value");
  expect(typeof seenCtx.logger.info).toBe("function");
  expect(seenCtx.signal).toBeInstanceOf(AbortSignal);
  await orchestrator.stop();
});

test("a partial batch runs when its timeout passes", async () => {
  const sizes: number[] = [];
  const { conductor, orchestrator } = start({ size: 100, timeoutMs: 200 }, async (events) => {
    sizes.push(events.length);
  });
  await orchestrator.start();
  const ids = await conductor.invoke({ name: "square" }, [1, 2, 3].map((n) => ({ payload: { n } })));
  await eventually(allIn(ids, "completed"), { what: "the partial batch" });
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(3);
  expect(Math.max(...sizes)).toBeLessThan(100);
  expect((await rowsOf(ids)).map((row) => row.result)).toEqual([null, null, null]); // returned nothing
  await orchestrator.stop();
});

test("a wrong number of results is a clear error and every execution of the batch retries", async () => {
  const { conductor, orchestrator } = start({ size: 2, timeoutMs: 60_000 }, async () => [1]);
  await orchestrator.start();
  const ids = await conductor.invoke({ name: "square" }, [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
  await eventually(async () => (await rowsOf(ids)).every((row) => row.status === "pending" && row.last_error), { what: "both to be scheduled for retry" });
  for (const row of await rowsOf(ids)) {
    expect(row.last_error).toMatch(/Batch task "square" must return nothing or an array with one result per event \(2 events, got an array of 1\)/);
    expect(row.attempts).toBe(1);
  }
  await orchestrator.stop();
});

test("a thrown error retries every execution in the batch", async () => {
  const { conductor, orchestrator } = start({ size: 3, timeoutMs: 60_000 }, async () => {
    throw new Error("downstream is down");
  });
  await orchestrator.start();
  const ids = await conductor.invoke({ name: "square" }, [1, 2, 3].map((n) => ({ payload: { n } })));
  await eventually(async () => (await rowsOf(ids)).every((row) => row.status === "pending" && row.last_error === "downstream is down"), {
    what: "all three to be scheduled for retry",
  });
  await orchestrator.stop();
});

test("stopping runs the partial batch at once with ctx.signal aborted; a batch that gives up is released, not failed", async () => {
  const seen: { size: number; aborted: boolean }[] = [];
  const { conductor, orchestrator } = start({ size: 100, timeoutMs: 60_000 }, async (events, ctx) => {
    seen.push({ size: events.length, aborted: ctx.signal.aborted });
    if (ctx.signal.aborted) throw new Error("stopping, try later");
  });
  await orchestrator.start();
  const ids = await conductor.invoke({ name: "square" }, [1, 2].map((n) => ({ payload: { n } })));
  await eventually(async () => (await rowsOf(ids)).every((row) => row.status === "running"), { what: "both to be claimed and buffered" });
  await orchestrator.stop(); // the one-minute timeout is not awaited
  expect(seen).toEqual([{ size: 2, aborted: true }]);
  for (const row of await rowsOf(ids)) expect(row).toMatchObject({ status: "pending", attempts: 0, last_error: null });
});

test("a bad batch setting is rejected at createTask; a good one types events[] and ctx", () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: { region: "eu" }, logger: silentLogger });
  const typed = conductor.createTask({ name: "square", batch: { size: 2, timeoutMs: 10 } }, { invocable: true }, async (events, ctx) => {
    ctx.logger.debug(ctx.region);
    return events.map((event) => event.payload.n * 2);
  });
  expect(typed.name).toBe("square");
  expect(() => conductor.createTask({ name: "square", batch: { size: 0, timeoutMs: 10 } }, { invocable: true }, async () => {})).toThrow(
    /createTask "square": batch.size must be a positive integer/,
  );
});
