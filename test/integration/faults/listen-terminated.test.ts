/**
 * Issue 11, item 2 (and the "LISTEN terminated" case that already passed for work notifications):
 * the server terminates the LISTEN backend right after start() resolves, again and again. Nothing
 * may reach the process as an uncaught exception or unhandled rejection (every channel — work,
 * cancel, stop requests, pause, cron — handles the loss and listens again), and push still works.
 *
 * Orchestrators here run with localDispatch: false: their invokes must travel the push path
 * (NOTIFY, sweep) under test, not the in-process fast path.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce } from "../../support/faults/outcomes";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "echo", payload: z.object({ i: z.number() }) }),
  defineTask({ name: "tick", payload: z.object({}) }),
]);
const db = useTestDatabase();
const track = trackOrchestrators();

const uncaught: unknown[] = [];
const trap = (error: unknown) => uncaught.push(error);
beforeAll(() => {
  process.on("uncaughtException", trap);
  process.on("unhandledRejection", trap);
});
afterAll(() => {
  process.off("uncaughtException", trap);
  process.off("unhandledRejection", trap);
});

const listenerPids = async () =>
  (await db.sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'`).map((row) => row.pid);

test("the LISTEN backend terminated right after start, five times over: nothing uncaught, and push still runs the work", async () => {
  const outcomes = countOutcomes(db.url);
  try {
    const conductor = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (_event, ctx) => {
      outcomes.started(ctx.executionId);
      return null;
    });
    // A cron task, so the schedule channel is listened too.
    const cron = conductor.createTask({ name: "tick", queue: "cron" }, { cron: "0 0 1 1 *", name: "yearly" }, async () => null);
    for (let round = 0; round < 5; round++) {
      const orchestrator = track(
        Orchestrator.create({ conductor, tasks: [echo, cron], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, heartbeatIntervalMs: 100, handleSignals: false }),
      );
      // A killer that terminates every LISTEN backend the moment it shows up: during start() (while
      // the channels' LISTENs are in flight) and after it, until it has killed three after start.
      let killedAfterStart = 0;
      let started = false;
      const killer = (async () => {
        while (killedAfterStart < 3) {
          const [{ n }] = await db.sql<{ n: number }[]>`
            select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
            where datname = current_database() and query ilike 'listen%'`;
          if (started) killedAfterStart += n;
        }
      })();
      await orchestrator.start();
      started = true;
      await killer;
      await eventually(async () => (await listenerPids()).length > 0, { what: "the listener to come back" });
      outcomes.track([await conductor.invoke({ name: "echo" }, { i: round })]);
      await outcomes.waitForAll({ timeoutMs: 15_000 });
      await orchestrator.stop();
    }
    // Errors would surface on a later turn of the event loop: give them one.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(uncaught).toEqual([]);
    expectExactlyOnce(await outcomes.report());
  } finally {
    await outcomes.close();
  }
});
