/**
 * Behind a real pgbouncer in transaction mode, LISTEN delivers nothing. The orchestrator notices at
 * start (its NOTIFY to itself does not arrive), warns naming the cause and the fix, reports push as
 * degraded, sweeps at the short degraded interval so work still starts (the configured sweep is an
 * hour), and turns prepared statements off so nothing fails with "prepared statement does not
 * exist" (the cron service included). With listenConnectionString (a direct URL) push works.
 *
 * Orchestrators here run with localDispatch: false: their invokes must travel the push path
 * (NOTIFY, sweep) under test, not the in-process fast path.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import type { Logger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { startPgBouncer, type PgBouncer } from "../../support/faults/pgbouncer";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "quick", payload: z.object({}) }), defineTask({ name: "ticker" })]);
const db = useTestDatabase();
const track = trackOrchestrators();
let bouncer: PgBouncer;

beforeAll(async () => {
  bouncer = await startPgBouncer(db.url, { poolMode: "transaction" });
}, 120_000);
afterAll(async () => bouncer?.stop());

function recordingLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string, tags?: Record<string, unknown>) =>
    void lines.push(`${level} ${message}${tags?.error ? ` ${String((tags.error as Error).message ?? tags.error)}` : ""}`);
  const logger: Logger = { debug: () => {}, info: log("info"), warn: log("warn"), error: log("error") };
  return { logger, lines };
}

test("through pgbouncer: a warning with cause and fix, the degraded sweep runs the work, no prepared-statement errors", async () => {
  const { logger, lines } = recordingLogger();
  const pooled = postgres(bouncer.urlFor(db.url), { onnotice: () => {}, max: 4 });
  const conductor = Conductor.create({ sql: pooled, tasks, context: {}, logger });
  const quick = conductor.createTask({ name: "quick" }, { invocable: true }, async () => "done");
  let ticks = 0;
  const ticker = conductor.createTask({ name: "ticker" }, { cron: "* * * * * *", name: "every-second" }, async () => void (ticks += 1));
  const orchestrator = track(Orchestrator.create({
    conductor, tasks: [quick, ticker], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false, listenProbeTimeoutMs: 500,
  }));
  try {
    await orchestrator.start();
    expect(orchestrator.health).toMatchObject({ status: "degraded", push: { mode: "sweeping", sweepIntervalMs: 1_000 } });
    const warnings = lines.filter((line) => line.startsWith("warn"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/push is degraded to a sweep every 1000 ms: .*did not arrive within 500 ms.*pooler in transaction mode \(pgbouncer pool_mode=transaction\).*Fix: pass Orchestrator\.create\(\{ listenConnectionString \}\)/);

    const ids = await Promise.all([1, 2, 3].map(() => conductor.invoke({ name: "quick" }, {})));
    for (const id of ids) await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "work by the degraded sweep" });
    await eventually(() => ticks >= 2, { what: "two cron runs" });
    await orchestrator.stop();
    expect(lines.filter((line) => /prepared statement .* does not exist/i.test(line))).toEqual([]);
    expect(lines).toContain("info prepared statements turned off for this connection pool: LISTEN does not deliver, so the pool is taken for a transaction pooler");
    expect(lines.filter((line) => line.startsWith("error"))).toEqual([]);
  } finally {
    await orchestrator.stop();
    await pooled.end({ timeout: 5 });
  }
});

test("through pgbouncer with listenConnectionString: push listens, no warning", async () => {
  const { logger, lines } = recordingLogger();
  const pooled = postgres(bouncer.urlFor(db.url), { onnotice: () => {}, max: 4 });
  const conductor = Conductor.create({ sql: pooled, tasks, context: {}, logger });
  const quick = conductor.createTask({ name: "quick" }, { invocable: true }, async () => "done");
  const orchestrator = track(Orchestrator.create({
    conductor, tasks: [quick], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false, listenConnectionString: db.url,
  }));
  try {
    await orchestrator.start();
    expect(orchestrator.health).toMatchObject({ status: "ok", push: { mode: "listening" } });
    const id = await conductor.invoke({ name: "quick" }, {});
    await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "work by push" });
    await orchestrator.stop();
    expect(lines.filter((line) => line.startsWith("warn") || line.startsWith("error"))).toEqual([]);
  } finally {
    await orchestrator.stop();
    await pooled.end({ timeout: 5 });
  }
});
