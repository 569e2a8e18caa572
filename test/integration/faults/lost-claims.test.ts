/**
 * Issue 11, item 1: connections cut while claims are in flight. A claim that commits but whose reply
 * is lost leaves rows `running`, locked by an orchestrator that is alive and heartbeating but does not
 * run them. The heartbeat names what the orchestrator holds; the database returns the rest to the
 * queue once they are older than the lease, so every execution still completes, exactly once.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce, invokeMany } from "../../support/faults/outcomes";
import { startTcpProxyTo, type TcpProxy } from "../../support/faults/tcp-proxy";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "quick", payload: z.object({ i: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();
let proxy: TcpProxy;
/** A claim's text: the plain claim statement (src/db/claim.ts) or a call of claim_limited. */
const CLAIM = /set status = 'running', locked_by|pgconductor\.claim_limited/;

beforeAll(async () => {
  proxy = await startTcpProxyTo(db.url);
  await Conductor.create({ sql: db.sql, tasks, logger: silentLogger }).ensureInstalled();
});
afterAll(async () => proxy?.close());

test("every socket cut as claims commit, five times in 2,000 executions: all complete exactly once, none left running", async () => {
  // The orchestrator's every connection goes through the proxy; invoking and counting do not.
  const proxied = postgres(proxy.urlFor(db.url), { max: 10, onnotice: () => {}, backoff: () => 0.05, connect_timeout: 5 });
  const outcomes = countOutcomes(db.url);
  // At these starts, the next claim commits and its reply is lost (every socket is reset instead).
  const cutsAt = new Set([200, 600, 1000, 1400, 1800]);
  let starts = 0;
  let orchestrator: Orchestrator | null = null;
  try {
    const conductor = Conductor.create({ sql: proxied, tasks, logger: silentLogger });
    const quick = conductor.createTask({ name: "quick" }, { invocable: true }, async (_event, ctx) => {
      outcomes.started(ctx.executionId);
      if (cutsAt.has(++starts)) proxy.cutOnReplyTo(CLAIM, 1);
      return null;
    });
    orchestrator = track(
      Orchestrator.create({
        conductor,
        tasks: [quick],
        // Push and the lease are what recover; the sweep is kept out of the way.
        defaultWorker: { concurrency: 20, fetchBatchSize: 20, pollIntervalMs: hour },
        heartbeatIntervalMs: 200,
        leaseMs: 1_500,
        handleSignals: false,
      }),
    );
    await orchestrator.start();
    const invoker = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    outcomes.track(await invokeMany(invoker, { name: "quick" }, 2_000));

    const report = await outcomes.waitForAll({ timeoutMs: 40_000 });
    expect(proxy.repliesCut).toBe(5);
    expectExactlyOnce(report);
  } finally {
    await orchestrator?.stop();
    await outcomes.close();
    await proxied.end({ timeout: 1 }).catch(() => {});
  }
});
