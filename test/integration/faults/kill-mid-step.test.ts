/**
 * Passing today, kept so: an orchestrator process killed with SIGKILL while its executions are
 * mid-step. A survivor whose sweep is an hour away takes the work over through the lease (the
 * rescuer returns it to the queue and notifies), and every step's side effect happens exactly once.
 * (crash-recovery.test.ts covers one execution; this is ten held and ten waiting.)
 */
import { Conductor, Orchestrator } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { crashTasks, createFourStepTask } from "../../fixtures/crashing-orchestrator";
import { killHard, startFixture } from "../../support/child-process";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, invokeMany } from "../../support/faults/outcomes";

const db = useTestDatabase();
const track = trackOrchestrators();

test("SIGKILL with ten executions hanging in step three: a survivor takes them over within the lease, every step ran once", async () => {
  await db.sql`create table side_effects (execution_id uuid, name text, at timestamptz default clock_timestamp())`;
  const conductor = Conductor.create({ sql: db.sql, tasks: crashTasks, logger: silentLogger });
  await conductor.ensureInstalled();
  const outcomes = countOutcomes(db.url);
  // The fixture runs ten at a time (default concurrency) and never finishes step three.
  const { child } = await startFixture("crashing-orchestrator.ts", { FIXTURE_DATABASE_URL: db.url, HANG_AT_STEP: "3" });
  try {
    outcomes.track(await invokeMany(conductor, { name: "four-steps" }, 20, () => ({})));
    // Step two's result stored (not only its side effect, which a kill before the store would repeat):
    // these ten are inside step three, which never records its side effect in the child.
    await eventually(async () => (await db.sql`select count(*)::int as n from pgconductor.steps where name = 'step:step-2'`)[0].n === 10, {
      what: "ten executions to reach step three in the child",
    });
    await killHard(child);

    const survivor = track(
      Orchestrator.create({
        conductor,
        tasks: [createFourStepTask(conductor, db.sql, null)],
        defaultWorker: { pollIntervalMs: hour },
        heartbeatIntervalMs: 200,
        leaseMs: 1_000,
        handleSignals: false,
      }),
    );
    await survivor.start();
    const report = await outcomes.waitForAll({ timeoutMs: 20_000 });
    expect(report.counts.completed).toBe(20);
    const perStep = await db.sql<{ name: string; executions: number; max: number }[]>`
      select name, count(distinct execution_id)::int as executions, max(n)::int as max from (
        select execution_id, name, count(*) as n from side_effects group by execution_id, name) s
      group by name order by name`;
    expect(perStep).toEqual(["step-1", "step-2", "step-3", "step-4"].map((name) => ({ name, executions: 20, max: 1 })));
    // The ten the child held were taken over (their interrupted attempt counts); the ten it never claimed were not.
    const attempts = await db.sql<{ attempts: number; n: number }[]>`
      select attempts, count(*)::int as n from pgconductor.executions where id = any(${outcomes.ids}::uuid[]) group by attempts order by attempts`;
    expect(attempts).toEqual([{ attempts: 1, n: 10 }, { attempts: 2, n: 10 }]);
  } finally {
    await killHard(child);
    await outcomes.close();
  }
});
