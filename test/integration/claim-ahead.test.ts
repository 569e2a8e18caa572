/**
 * Claim-ahead on a real database: once a handler has finished fast, the worker leases more than its
 * slots; the buffered executions have not started, so stop() puts them back at once with their
 * attempt uncounted, while the running handlers drain. Then a second orchestrator runs them all:
 * each execution ran its handler exactly once.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { deferred, eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "job", payload: z.object({ n: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();

const countBy = async (status: string) =>
  Number((await db.sql`select count(*)::int as n from pgconductor.executions where task_key = 'job' and status = ${status}`)[0].n);

test("buffered executions are leased but not started; stop() returns them unattempted and they run once later", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const runs = new Map<number, number>();
  const finish = deferred();
  let gated = true;
  conductor.createTask({ name: "job" }, { invocable: true }, async (event) => {
    runs.set(event.payload.n, (runs.get(event.payload.n) ?? 0) + 1);
    if (event.payload.n > 0 && gated) await finish.promise;
  });
  // claimAheadMs well above a no-op handler on a loaded machine: the buffer is always the full 10.
  const config = { concurrency: 2, fetchBatchSize: 12, claimAheadMs: 60_000, pollIntervalMs: hour };
  const first = track(Orchestrator.create({ conductor, defaultWorker: config, handleSignals: false }));
  await first.start();
  await conductor.invoke({ name: "job" }, { n: 0 }); // finishes at once: the worker learns its handlers are fast
  await eventually(async () => (await countBy("completed")) === 1, { what: "the fast execution" });
  await conductor.invoke({ name: "job" }, [...Array(40)].map((_, i) => ({ payload: { n: i + 1 } })));
  await eventually(async () => (await countBy("running")) === 12, { what: "2 running and 10 claimed ahead" });
  expect(runs.size).toBe(3); // the fast one and the two in the slots

  const stopped = first.stop();
  await eventually(async () => (await countBy("running")) === 2, { what: "the buffered ten back in the queue" });
  const [pending] = await db.sql`
    select count(*)::int as n, max(attempts) as attempts, count(locked_by)::int as locked
    from pgconductor.executions where task_key = 'job' and status = 'pending'`;
  expect(pending).toEqual({ n: 38, attempts: 0, locked: 0 });
  gated = false;
  finish.resolve();
  await stopped;

  const second = track(Orchestrator.create({ conductor, defaultWorker: config, handleSignals: false }));
  await second.start();
  await eventually(async () => (await countBy("completed")) === 41, { what: "every execution completed" });
  await second.stop();
  expect(runs.size).toBe(41);
  expect([...runs.values()].every((count) => count === 1)).toBe(true);
});
