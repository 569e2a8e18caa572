/**
 * Retry policy, retryAfterMs, timeoutMs and debounce maxSeconds on a real database. The sweep is an
 * hour away and the default backoff is 15 s, so a retry that comes within the test's time came from
 * the policy (or the error) through the due timer. Gaps are checked from below (never early).
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, TaskTimeoutError, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, executionRow, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "flaky", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "throttled-api", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "slow", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "save-doc", payload: z.object({ n: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();
beforeAll(async () => {
  await db.sql`create table attempts (execution_id uuid, attempt int, at timestamptz)`;
});

async function recordAttempt(executionId: string): Promise<number> {
  const [row] = await db.sql`
    insert into attempts select id, attempts, clock_timestamp() from pgconductor.executions where id = ${executionId} returning attempt`;
  return row.attempt;
}

async function gapsMs(executionId: string): Promise<number[]> {
  const rows = await db.sql<{ gap: number }[]>`
    select extract(epoch from at - lag(at) over (order by attempt)) * 1000 as gap from attempts
    where execution_id = ${executionId} order by attempt`;
  return rows.slice(1).map((row) => Number(row.gap));
}

function start(register: (conductor: Conductor<any, any, any>) => void) {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  register(conductor);
  const orchestrator = track(Orchestrator.create({ conductor, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator };
}

test("retry: delays follow initialMs × factor^(attempt−1), and the last failure is recorded", async () => {
  const { conductor, orchestrator } = start((c) =>
    c.createTask({ name: "flaky", maxAttempts: 3, retry: { initialMs: 300, factor: 2, maxMs: 10_000, jitter: 0 } }, { invocable: true }, async (_e, ctx) => {
      const attempt = await recordAttempt(ctx.executionId);
      throw new Error(`attempt ${attempt} failed`);
    }),
  );
  await orchestrator.start();
  const id = await conductor.invoke({ name: "flaky" }, { n: 1 });
  await eventually(async () => (await executionRow(db.sql, id)).status === "failed", { what: "the execution to fail for good", timeoutMs: 10_000 });
  const gaps = await gapsMs(id);
  expect(gaps).toHaveLength(2);
  expect(gaps[0]).toBeGreaterThanOrEqual(300);
  expect(gaps[1]).toBeGreaterThanOrEqual(600);
  expect((await executionRow(db.sql, id)).last_error).toBe("attempt 3 failed");
});

test("an error's retryAfterMs sets the delay before the next attempt", async () => {
  const { conductor, orchestrator } = start((c) =>
    c.createTask({ name: "throttled-api" }, { invocable: true }, async (_e, ctx) => {
      const attempt = await recordAttempt(ctx.executionId);
      if (attempt === 1) throw Object.assign(new Error("429 Too Many Requests"), { retryAfterMs: 400 });
    }),
  );
  await orchestrator.start();
  const id = await conductor.invoke({ name: "throttled-api" }, { n: 1 });
  await eventually(async () => (await executionRow(db.sql, id)).status === "completed", { what: "the retry after 400 ms", timeoutMs: 10_000 });
  const [gap] = await gapsMs(id);
  expect(gap).toBeGreaterThanOrEqual(400);
});

test("timeoutMs: the attempt fails naming the task and limit, ctx.signal aborts, and it is retried", async () => {
  const aborted: unknown[] = [];
  const { conductor, orchestrator } = start((c) =>
    c.createTask({ name: "slow", maxAttempts: 2, timeoutMs: 200, retry: { initialMs: 50 } }, { invocable: true }, async (_e, ctx) => {
      await recordAttempt(ctx.executionId);
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => {
        aborted.push(ctx.signal.reason);
        resolve();
      }));
      // A handler that ignores the abort and returns: its outcome no longer counts.
      return undefined;
    }),
  );
  await orchestrator.start();
  const id = await conductor.invoke({ name: "slow" }, { n: 1 });
  await eventually(async () => (await executionRow(db.sql, id)).status === "failed", { what: "both attempts to time out", timeoutMs: 10_000 });
  const row = await executionRow(db.sql, id);
  expect(row.attempts).toBe(2);
  expect(row.last_error).toBe('Task "slow" timed out after 200 ms (timeoutMs)');
  expect(aborted).toHaveLength(2);
  expect(aborted[0]).toBeInstanceOf(TaskTimeoutError);
  const [gap] = await gapsMs(id);
  expect(gap).toBeGreaterThanOrEqual(200 + 50);
});

test("debounce maxSeconds: a key called again and again still runs within maxSeconds of its first call", async () => {
  const runs: number[] = [];
  const { conductor, orchestrator } = start((c) =>
    c.createTask({ name: "save-doc" }, { invocable: true }, async (event) => {
      runs.push(event.payload.n);
    }),
  );
  await orchestrator.start();
  const first = await conductor.invoke({ name: "save-doc" }, { n: 0 }, { debounce: { seconds: 1, maxSeconds: 2 }, dedupe_key: "doc" });
  // Keep calling every 100 ms: without maxSeconds each call would push it back by another second.
  let n = 1;
  const ids = new Set<string>([first]);
  await eventually(async () => {
    ids.add(await conductor.invoke({ name: "save-doc" }, { n: n++ }, { debounce: { seconds: 1, maxSeconds: 2 }, dedupe_key: "doc" }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return runs.length > 0;
  }, { what: "the debounced execution to run while calls keep coming", timeoutMs: 10_000 });
  // The handler has run; its completion is written a moment later.
  const row = await eventually(async () => {
    const current = await executionRow(db.sql, first);
    return current.status === "completed" ? current : null;
  }, { what: "the debounced execution's completion to be written" });
  // created_at is the first call's transaction time, from which the gate counts maxSeconds.
  expect(row.run_at.getTime()).toBeLessThanOrEqual(row.created_at.getTime() + 2000);
  expect(runs[0]).toBeGreaterThan(0); // it ran with a later call's payload
  // Calls after it started begin a new series (at most the one call racing the check above).
  expect(ids.size).toBeLessThanOrEqual(2);
});
