/**
 * A graceful stop drains running handlers while the orchestrator keeps its lease: the heartbeat
 * goes on beating until the workers are done, so no other orchestrator's rescuer takes over an
 * execution that is still running here (it would run twice). Claims stop at once.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { deferred, eventually, hour, statusOf, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "long", payload: z.object({ n: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();

test("while stop() drains a running handler, heartbeats go on and nothing new is claimed", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const started: number[] = [];
  const running = deferred();
  const finish = deferred();
  conductor.createTask({ name: "long" }, { invocable: true }, async (event) => {
    started.push(event.payload.n);
    running.resolve();
    await finish.promise;
  });
  const orchestrator = track(
    Orchestrator.create({ conductor, heartbeatIntervalMs: 100, defaultWorker: { concurrency: 1, pollIntervalMs: hour }, handleSignals: false }),
  );
  await orchestrator.start();
  const first = await conductor.invoke({ name: "long" }, { n: 1 });
  await running.promise;
  const stopped = orchestrator.stop();
  const [{ at }] = await db.sql`select now() as at`;
  // Beats after the stop began prove the lease is kept for the drain.
  await eventually(async () => {
    const [row] = await db.sql`select last_heartbeat_at > ${at} as beat from pgconductor.orchestrators where id = ${orchestrator.id}`;
    return row?.beat === true;
  }, { what: "a heartbeat during the drain" });
  const second = await conductor.invoke({ name: "long" }, { n: 2 });
  finish.resolve();
  await stopped;
  expect(await statusOf(db.sql, first)).toBe("completed");
  expect(await statusOf(db.sql, second)).toBe("pending"); // the stopping worker claimed nothing more
  expect(started).toEqual([1]);
});
