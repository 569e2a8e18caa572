/**
 * orchestrator.health follows the database: reachable, push listening; then the database refuses
 * every connection (ALLOW_CONNECTIONS false and its sessions terminated) and health turns "down"
 * while info still says isRunning; once it accepts connections again health is "ok" again, each
 * change logged once, and `pgconductor status` shows what the orchestrator stored.
 *
 * Orchestrators here run with localDispatch: false: their invokes must travel the push path
 * (NOTIFY, sweep) under test, not the in-process fast path.
 */
import postgres from "postgres";
import { z } from "zod";
import { firstValueFrom, filter, type Observable } from "rxjs";
import { Conductor, Orchestrator, TaskSchemas, defineTask, type OrchestratorHealth } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { statusReport } from "../../../src/cli/status";
import type { Logger } from "../../../src/model/logger";
import { startRestartablePostgres } from "../../support/faults/restartable-postgres";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "noop", payload: z.object({}) }), defineTask({ name: "signup" })]);
const db = useTestDatabase();
const track = trackOrchestrators();

function recordingLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger: Logger = { debug: () => {}, info: log("info"), warn: log("warn"), error: log("error") };
  return { logger, lines };
}

const next = (health$: Observable<OrchestratorHealth>, status: string) =>
  firstValueFrom(health$.pipe(filter((health) => health.status === status)));

test("health turns down while the database refuses connections and recovers, each change logged once", async () => {
  const admin = postgres(process.env.PGCONDUCTOR_TEST_SERVER_URL!, { max: 1, onnotice: () => {} });
  const name = (await db.sql<{ name: string }[]>`select current_database() as name`)[0].name;
  const { logger, lines } = recordingLogger();
  const sql = postgres(db.url, { onnotice: () => {}, backoff: () => 0.05, connect_timeout: 2 });
  const conductor = Conductor.create({ sql, tasks, context: {}, logger });
  const noop = conductor.createTask({ name: "noop" }, { invocable: true }, async () => {});
  const orchestrator = track(Orchestrator.create({
    conductor, tasks: [noop], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false,
    heartbeatIntervalMs: 200, leaseMs: 60_000, listenProbeTimeoutMs: 500,
  }));
  try {
    await orchestrator.start();
    expect(orchestrator.health).toMatchObject({ status: "ok", database: { reachable: true }, push: { mode: "listening" }, tableChanges: null });
    expect(typeof orchestrator.health.database.clockOffsetMs).toBe("number");
    const [stored] = await db.sql`select health from pgconductor.orchestrators where id = ${orchestrator.id}`;
    expect(stored.health).toMatchObject({ status: "ok", push: "listening" });
    expect(await statusReport(db.sql)).toMatch(new RegExp(`${orchestrator.id}.*ok, push listening`));

    const down = next(orchestrator.health$, "down");
    await admin.unsafe(`alter database ${name} allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
    const unhealthy = await down;
    expect(unhealthy.database.reachable).toBe(false);
    expect(unhealthy.database.error).toBeTruthy();
    expect(orchestrator.info.isRunning).toBe(true); // what info alone told before

    const ok = next(orchestrator.health$, "ok");
    await admin.unsafe(`alter database ${name} allow_connections true`);
    const healthy = await ok;
    expect(healthy).toMatchObject({ database: { reachable: true, error: null }, push: { mode: "listening" } });

    // Work invoked after the outage runs by push (the sweep is an hour away).
    const id = await conductor.invoke({ name: "noop" }, {});
    await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: "work after the outage" });

    // One line per change: unreachable once (not once per round), reachable again once.
    expect(lines.filter((line) => /database is unreachable/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => /database is reachable again/.test(line))).toHaveLength(1);
    await orchestrator.stop();
    expect(orchestrator.health.status).toBe("stopped");
  } finally {
    await admin.unsafe(`alter database ${name} allow_connections true`);
    await admin.end();
    await orchestrator.stop();
    await sql.end({ timeout: 5 });
  }
});

test("health turns down while PostgreSQL is stopped and ok once it runs again; work invoked afterwards runs by push", async () => {
  const server = await startRestartablePostgres();
  const { logger, lines } = recordingLogger();
  const sql = postgres(server.url, { onnotice: () => {}, backoff: () => 0.05, connect_timeout: 2 });
  const conductor = Conductor.create({ sql, tasks, context: {}, logger });
  const noop = conductor.createTask({ name: "noop" }, { invocable: true }, async () => {});
  const orchestrator = Orchestrator.create({
    conductor, tasks: [noop], localDispatch: false, defaultWorker: { pollIntervalMs: hour }, handleSignals: false,
    heartbeatIntervalMs: 200, leaseMs: 60_000, listenProbeTimeoutMs: 500,
  });
  try {
    await orchestrator.start();
    expect(orchestrator.health.status).toBe("ok");
    const down = next(orchestrator.health$, "down");
    await server.stop("fast");
    expect((await down).database.reachable).toBe(false);
    expect(orchestrator.info.isRunning).toBe(true);
    const ok = next(orchestrator.health$, "ok");
    await server.start();
    expect((await ok).push.mode).toBe("listening");
    const id = await conductor.invoke({ name: "noop" }, {});
    await eventually(async () => (await sql`select status from pgconductor.executions where id = ${id}`)[0]?.status === "completed", {
      what: "work after the restart",
    });
    expect(lines.filter((line) => /database is unreachable/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => /database is reachable again/.test(line))).toHaveLength(1);
  } finally {
    await orchestrator.stop();
    await sql.end({ timeout: 5 });
    await server.destroy();
  }
});

test("health reports the table-change consumer's mode and its slot's lag", async () => {
  await db.sql`create table signups (id serial primary key, email text)`;
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: recordingLogger().logger });
  const seen: string[] = [];
  const signup = conductor.createTask({ name: "signup" }, { schema: "public", table: "signups", operation: "insert", columns: "email" } as never,
    async (event: { payload: { new: { email: string } } }) => void seen.push(event.payload.new.email));
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [signup], handleSignals: false, heartbeatIntervalMs: 200 }));
  await orchestrator.start();
  await db.sql`insert into signups (email) values ('ada@example.com')`;
  await eventually(() => seen.length === 1, { what: "the table change to run" });
  const health = await next(orchestrator.health$.pipe(filter((h) => h.tableChanges?.mode === "consuming")), "ok");
  expect(health.tableChanges).toMatchObject({ mode: "consuming", failure: null });
  await eventually(() => typeof orchestrator.health.tableChanges?.lagBytes === "number", { what: "the slot's lag" });
  // status reads the health the monitor stored; the round that stores the lag may not have run yet.
  await eventually(async () => /table changes consuming/.test(await statusReport(db.sql)), { what: "the stored health" });
  expect(await statusReport(db.sql)).toMatch(/ok, push listening, table changes consuming/);
  await orchestrator.stop();
});
