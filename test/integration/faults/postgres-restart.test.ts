/**
 * Passing today, kept so: the PostgreSQL server restarts in the middle of a run (an immediate
 * shutdown, as in a crash, and then a fast one). Every connection breaks; the pool, the LISTEN
 * connection, heartbeats and outcome writes reconnect to the same address, and every execution
 * completes exactly once.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce, invokeMany } from "../../support/faults/outcomes";
import { startRestartablePostgres, type RestartablePostgres } from "../../support/faults/restartable-postgres";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "work", payload: z.object({ i: z.number() }) })]);
const track = trackOrchestrators();
let server: RestartablePostgres;

beforeAll(async () => {
  server = await startRestartablePostgres();
});
afterAll(async () => server?.destroy());

test("two restarts of PostgreSQL during 2,000 executions: each completes exactly once", async () => {
  const sql = postgres(server.url, { max: 10, onnotice: () => {}, backoff: () => 0.1, connect_timeout: 5 });
  const outcomes = countOutcomes(server.url);
  let orchestrator: Orchestrator | null = null;
  let starts = 0;
  const restarts: Promise<void>[] = [];
  // Workers claim as soon as they start, before start() has started the services; a restart in
  // that gap would fail start() itself (a fair outcome, but not what this test is about). So the
  // restarts, and the handlers from the 400th on, wait for start() to return: they still land in
  // the middle of the run.
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  try {
    const conductor = Conductor.create({ sql, tasks, logger: silentLogger });
    await conductor.ensureInstalled();
    const work = conductor.createTask({ name: "work" }, { invocable: true }, async (_event, ctx) => {
      outcomes.started(ctx.executionId);
      starts += 1;
      const start = starts;
      if (start >= 400) await started;
      if (start === 400) restarts.push(server.restart("immediate"));
      if (start === 1_200) restarts.push(server.restart("fast"));
      return null;
    });
    orchestrator = track(
      Orchestrator.create({
        conductor,
        tasks: [work],
        defaultWorker: { concurrency: 20, fetchBatchSize: 20, pollIntervalMs: hour },
        heartbeatIntervalMs: 200,
        // Well above the downtime (a second or two, more on a loaded machine: crash recovery runs
        // first): an orchestrator whose heartbeats fail for a whole lease is taken for dead and
        // stops. A claim whose reply the crash swallowed is released after it (see lost-claims).
        leaseMs: 15_000,
        handleSignals: false,
      }),
    );
    outcomes.track(await invokeMany(conductor, { name: "work" }, 2_000)); // before the restarts can break an invoke
    await orchestrator.start();
    markStarted();
    const report = await outcomes.waitForAll({ timeoutMs: 90_000 });
    await Promise.all(restarts);
    expect(restarts).toHaveLength(2);
    expectExactlyOnce(report);
  } finally {
    await orchestrator?.stop();
    await outcomes.close();
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}, 120_000);
