/**
 * stop() has a grace limit: a handler that never reaches a step does not hold it for ever. After
 * stopTimeoutMs its ctx.signal aborts and the execution is released (pending again, no attempt
 * spent, not failed), and another orchestrator runs it.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { deferred, eventually, executionRow, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "stubborn", payload: z.object({}) })]);
const db = useTestDatabase();
const track = trackOrchestrators();

test("a handler that never reaches a step is released at the stop timeout, and runs again elsewhere", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const started = deferred();
  const aborted = deferred<unknown>();
  let runs = 0;
  const stubborn = conductor.createTask({ name: "stubborn", maxAttempts: 1 }, { invocable: true }, async (_event, ctx) => {
    runs += 1;
    if (runs > 1) return { ran: runs };
    ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
    started.resolve();
    await new Promise(() => {}); // never reaches a step, a checkpoint or its end
  });
  const options = { conductor, tasks: [stubborn], defaultWorker: { pollIntervalMs: hour }, handleSignals: false };
  const first = track(Orchestrator.create({ ...options, stopTimeoutMs: 300 }));
  await first.start();
  const id = await conductor.invoke({ name: "stubborn" }, {});
  await started.promise;

  await first.stop(); // without a grace limit this never resolves
  expect(String(await aborted.promise)).toMatch(/stop timeout passed; the execution was released/);
  const released = await executionRow(db.sql, id);
  expect({ status: released.status, attempts: released.attempts, lockedBy: released.locked_by, lastError: released.last_error })
    .toEqual({ status: "pending", attempts: 0, lockedBy: null, lastError: null });

  // maxAttempts is 1: had the release spent the attempt, this run would not happen.
  const second = track(Orchestrator.create(options));
  await second.start();
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "the released execution to run again" });
  const done = await executionRow(db.sql, id);
  expect({ attempts: done.attempts, result: done.result, runs }).toEqual({ attempts: 1, result: { ran: 2 }, runs: 2 });
});

test("stopTimeoutMs must be a non-negative number", () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  expect(() => Orchestrator.create({ conductor, stopTimeoutMs: -1 })).toThrow(/stopTimeoutMs must be a non-negative number of milliseconds or Infinity \(got -1\)/);
});
