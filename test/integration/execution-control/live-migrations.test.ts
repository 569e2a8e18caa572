import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { deferred, eventually, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";
import { migrate } from "../../../src/db/migrator";
import { loadMigrations, type Migration } from "../../../src/db/sql-files";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "work", payload: z.object({}) })]);

const db = useTestDatabase();
const track = trackOrchestrators();

const shipped = loadMigrations();
const current = shipped.at(-1)!.version;
/** A migration of a future release; its body fails if an older orchestrator is still registered. */
const future = (version: number, breaking: boolean): Migration => ({
  version,
  name: `future_${version}`,
  breaking,
  text: `${breaking ? "-- breaking\n" : ""}
    do $$ begin
      if ${breaking} and exists (select 1 from pgconductor.orchestrators where schema_version < ${version}) then
        raise exception 'an older orchestrator is still registered';
      end if;
    end $$;
    create table pgconductor.future_${version} (x int);`,
});

function startOld() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const started = deferred();
  const finish = deferred();
  conductor.createTask({ name: "work" }, { invocable: true }, async (_event, ctx) => {
    started.resolve();
    await finish.promise;
    await ctx.checkpoint();
    return "done";
  });
  // Heartbeats an hour apart: only the NOTIFY can tell it to stop promptly.
  const orchestrator = track(Orchestrator.create({ conductor, heartbeatIntervalMs: hour, defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator, started, finish };
}

test("a non-breaking migration is applied while older orchestrators keep running", async () => {
  const { orchestrator } = startOld();
  await orchestrator.start();
  const outcome = await migrate(db.sql, [...shipped, future(current + 900, false)]);
  expect(outcome.applied).toEqual([current + 900]);
  expect(orchestrator.info.isRunning).toBe(true);
  await orchestrator.stop();
});

test("a breaking migration stops older orchestrators first (gracefully), then applies", async () => {
  const { conductor, orchestrator, started, finish } = startOld();
  await orchestrator.start();
  const id = await conductor.invoke({ name: "work" }, {});
  await started.promise;
  // A newer orchestrator (already at the new version) is not asked to stop.
  await db.sql`insert into pgconductor.orchestrators (id, hostname, pid, schema_version) values (gen_random_uuid(), 'newer', 1, ${current + 901})`;

  const order: string[] = [];
  void orchestrator.stopped.then(() => order.push("older orchestrator stopped"));
  const migrating = migrate(db.sql, [...shipped, future(current + 900, false), future(current + 901, true)]).then((outcome) => {
    order.push("migration applied");
    return outcome;
  });
  await eventually(async () => (await db.sql`select stop_requested from pgconductor.orchestrators where id = ${orchestrator.id}`)[0]?.stop_requested, {
    what: "the older orchestrator to be asked to stop",
  });
  expect(order).toEqual([]); // the migration waits for the running handler's graceful stop
  // The stop request reaches the orchestrator by NOTIFY; its handler goes on only once it stops.
  await eventually(() => orchestrator.info.isShuttingDown, { what: "the older orchestrator to begin stopping" });
  finish.resolve();
  const outcome = await migrating;
  expect(outcome.applied).toEqual([current + 901]);
  expect(order).toEqual(["older orchestrator stopped", "migration applied"]);
  const [row] = await db.sql`select breaking from pgconductor.migrations where version = ${current + 901}`;
  expect(row.breaking).toBe(true);
  // The handler was released at its checkpoint, not failed, and waits for a newer orchestrator.
  const [execution] = await db.sql`select status, attempts from pgconductor.executions where id = ${id}`;
  expect(execution).toEqual({ status: "pending", attempts: 0 });
  expect(await db.sql`select 1 from pgconductor.orchestrators where hostname = 'newer'`).toHaveLength(1);
});
