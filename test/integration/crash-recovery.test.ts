import { Conductor, Orchestrator } from "pgconductor-js";
import { createConsoleLogger, silentLogger } from "../../src/model/logger";
import { crashTasks, createFourStepTask } from "../fixtures/crashing-orchestrator";
import { killHard, startFixture } from "../support/child-process";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, statusOf, trackOrchestrators } from "../support/helpers";

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table side_effects (execution_id uuid, name text, at timestamptz default clock_timestamp())`;
  await Conductor.create({ sql: db.sql, tasks: crashTasks, logger: process.env.TEST_LOG ? createConsoleLogger("debug") : silentLogger }).ensureInstalled();
});
afterAll(async () => db.drop());

test("an orchestrator killed with SIGKILL after step two: another finishes the work, each step ran exactly once", async () => {
  const { child } = await startFixture("crashing-orchestrator.ts", { FIXTURE_DATABASE_URL: db.url, HANG_AT_STEP: "3" });
  const conductor = Conductor.create({ sql: db.sql, tasks: crashTasks, logger: process.env.TEST_LOG ? createConsoleLogger("debug") : silentLogger });
  try {
    const id = await conductor.invoke({ name: "four-steps" }, {});
    await eventually(async () => (await db.sql`select 1 from side_effects where execution_id = ${id} and name = 'step-2'`).length === 1, {
      what: "the child process to finish step two",
    });
    await killHard(child);

    const survivor = track(
      Orchestrator.create({
        conductor,
        tasks: [createFourStepTask(conductor, db.sql, null)],
        heartbeatIntervalMs: 200,
        leaseMs: 1_000,
        handleSignals: false,
      }),
    );
    await survivor.start();
    await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "the survivor to finish the execution" });
    const counts = await db.sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from side_effects where execution_id = ${id} group by name order by name`;
    expect(counts).toEqual([
      { name: "step-1", n: 1 },
      { name: "step-2", n: 1 },
      { name: "step-3", n: 1 },
      { name: "step-4", n: 1 },
    ]);
    const [orchestrators] = await db.sql`select count(*)::int as n from pgconductor.orchestrators`;
    expect(orchestrators.n).toBe(1); // the dead one's record was removed
  } finally {
    await killHard(child);
  }
});

test("SIGTERM stops an orchestrator gracefully: the running step finishes, the rest is released and finished elsewhere", async () => {
  const { child } = await startFixture("crashing-orchestrator.ts", { FIXTURE_DATABASE_URL: db.url, SLOW_STEP: "3", HANDLE_SIGNALS: "1" });
  const conductor = Conductor.create({ sql: db.sql, tasks: crashTasks, logger: silentLogger });
  try {
    const id = await conductor.invoke({ name: "four-steps" }, {});
    await eventually(async () => (await db.sql`select 1 from side_effects where execution_id = ${id} and name = 'step-2'`).length === 1, {
      what: "step two",
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    await expect(exited).resolves.toBe(0);
    const released = await db.sql`select status, attempts from pgconductor.executions where id = ${id}`;
    expect(released[0]).toEqual({ status: "pending", attempts: 0 });
    expect((await db.sql`select count(*)::int as n from pgconductor.orchestrators`)[0].n).toBe(0);

    const survivor = track(Orchestrator.create({ conductor, tasks: [createFourStepTask(conductor, db.sql, null)], handleSignals: false }));
    await survivor.drain();
    const steps = await db.sql<{ name: string }[]>`select name from side_effects where execution_id = ${id} order by at`;
    expect(steps.map((s) => s.name)).toEqual(["step-1", "step-2", "step-3", "step-4"]);
  } finally {
    await killHard(child);
  }
});

test("the LISTEN connection terminated by the server: work invoked afterwards still runs, and the listener comes back", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: crashTasks, logger: process.env.TEST_LOG ? createConsoleLogger("debug") : silentLogger });
  const task = createFourStepTask(conductor, db.sql, null);
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [task], defaultWorker: { pollIntervalMs: 60 * 60 * 1000 }, handleSignals: false }));
  await orchestrator.start();
  const listeners = () => db.sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'`;
  const before = await eventually(async () => ((await listeners()).length > 0 ? await listeners() : null), { what: "a listener" });
  await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where pid = any(${before.map((r) => r.pid)})`;
  const id = await conductor.invoke({ name: "four-steps" }, {});
  await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "work invoked after the LISTEN connection died" });
  const after = await eventually(async () => {
    const rows = await listeners();
    return rows.length > 0 && rows.every((r) => !before.some((b) => b.pid === r.pid)) ? rows : null;
  }, { what: "a new listener connection" });
  expect(after.length).toBeGreaterThan(0);
});
