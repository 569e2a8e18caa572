/**
 * Pause and resume: a paused queue or task is not claimed (its neighbours are), a running execution
 * finishes, the pause holds across a restart of the orchestrator, and a resume starts the waiting
 * work at once (the sweep is an hour away, so only the resume's notification can start it). The
 * CLI pauses, resumes and shows the paused state in `status`; `observe({ pauses: true })` and the
 * dashboard's overview show it too.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { z } from "zod";
import { Conductor, ConfigurationError, Orchestrator, TaskSchemas, defineTask, type ExecutionEvent, type PauseEvent } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { deferred, eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const BIN = join(__dirname, "..", "..", "..", "bin", "pgconductor.js");
const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "report", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "probe", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "mail", payload: z.object({ n: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: "1" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

function newOrchestrator(onReport: (n: number) => Promise<void> | void = () => {}) {
  const conductor = Conductor.create({ sql: db.pool(), tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "report" }, { invocable: true }, async (event) => onReport(event.payload.n));
  conductor.createTask({ name: "probe" }, { invocable: true }, async () => {});
  conductor.createTask({ name: "mail", queue: "mail" }, { invocable: true }, async () => {});
  return { conductor, orchestrator: track(Orchestrator.create({ conductor, defaultWorker: { pollIntervalMs: hour }, handleSignals: false })) };
}

test("a paused task waits across a restart while its neighbours run; resume starts it at once", async () => {
  const first = newOrchestrator();
  await first.orchestrator.start();
  expect(await first.conductor.pause({ task: "report" })).toBe(true);
  expect(await first.conductor.pause({ task: "report" })).toBe(false);
  const waiting = await first.conductor.invoke({ name: "report" }, { n: 1 });
  // Evidence that the worker claimed after the invoke: a later job of the same queue completes.
  const probe = await first.conductor.invoke({ name: "probe" }, { n: 1 });
  await eventually(async () => (await statusOf(db.sql, probe)) === "completed", { what: "the probe" });
  expect(await statusOf(db.sql, waiting)).toBe("pending");
  await first.orchestrator.stop();

  const second = newOrchestrator(); // a restart: the pause is read from the table
  await second.orchestrator.start();
  const probe2 = await second.conductor.invoke({ name: "probe" }, { n: 2 });
  await eventually(async () => (await statusOf(db.sql, probe2)) === "completed", { what: "the probe after the restart" });
  expect(await statusOf(db.sql, waiting)).toBe("pending");
  expect(await second.conductor.paused()).toEqual([expect.objectContaining({ task: "report" })]);

  expect(await second.conductor.resume({ task: "report" })).toBe(true);
  await eventually(async () => (await statusOf(db.sql, waiting)) === "completed", { what: "the resumed execution" });
  expect(await second.conductor.paused()).toEqual([]);
});

test("pausing a queue lets its running execution finish and starts nothing else of it", async () => {
  const started: number[] = [];
  const release = deferred();
  const { conductor, orchestrator } = newOrchestrator(async (n) => {
    started.push(n);
    if (n === 1) await release.promise;
  });
  await orchestrator.start();
  const running = await conductor.invoke({ name: "report" }, { n: 1 });
  await eventually(() => started.includes(1), { what: "the first execution to start" });
  await conductor.pause({ queue: "default" });
  const held = await conductor.invoke({ name: "report" }, { n: 2 });
  const mail = await conductor.invoke({ name: "mail" }, { n: 1 }); // another queue is not paused
  await eventually(async () => (await statusOf(db.sql, mail)) === "completed", { what: "work of another queue" });
  release.resolve();
  await eventually(async () => (await statusOf(db.sql, running)) === "completed", { what: "the running execution to finish" });
  expect(await statusOf(db.sql, held)).toBe("pending");
  expect(started).toEqual([1]);
  await conductor.resume({ queue: "default" });
  await eventually(async () => (await statusOf(db.sql, held)) === "completed", { what: "the held execution after resume" });
});

test("the CLI pauses, shows it in status, and resumes", async () => {
  const { conductor, orchestrator } = newOrchestrator();
  await orchestrator.start();
  const paused = await cli(["pause", "--queue", "mail"]);
  expect(paused).toMatchObject({ code: 0, stdout: "queue mail paused\n" });
  const status = await cli(["status"]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/Paused\n\s+kind\s+name\s+since\n\s+queue\s+mail\s/);
  const held = await conductor.invoke({ name: "mail" }, { n: 2 });
  const probe = await conductor.invoke({ name: "probe" }, { n: 3 });
  await eventually(async () => (await statusOf(db.sql, probe)) === "completed", { what: "the probe" });
  expect(await statusOf(db.sql, held)).toBe("pending");
  expect(await cli(["resume", "--queue", "mail"])).toMatchObject({ code: 0, stdout: "queue mail resumed\n" });
  await eventually(async () => (await statusOf(db.sql, held)) === "completed", { what: "the held execution after the CLI resume" });
  expect((await cli(["pause"])).code).toBe(2);
  expect((await cli(["status"])).stdout).not.toMatch(/Paused/);
});

test("bad pause arguments are ConfigurationErrors", async () => {
  const { conductor } = newOrchestrator();
  await expect(conductor.pause({ queue: "a", task: "b" } as never)).rejects.toThrow(ConfigurationError);
  await expect(conductor.resume({} as never)).rejects.toThrow(/resume: pass \{ queue: name \} or \{ task: name \}/);
});

test("observe({ pauses: true }) sees another process pause and resume; history replays the pauses in force", async () => {
  const { orchestrator } = newOrchestrator();
  await orchestrator.start(); // registers the tasks (a task's pause event names its queue)
  const other = Conductor.create({ sql: db.pool(), tasks, context: {}, logger: silentLogger });
  const watcher = Conductor.create({ sql: db.pool(), tasks, context: {}, logger: silentLogger });
  try {
    await other.pause({ task: "probe" });
    const events: PauseEvent[] = [];
    const mailOnly: PauseEvent[] = [];
    const all = watcher.observe({ pauses: true, history: true }).subscribe((event) => {
      if (!("executionId" in event)) events.push(event);
    });
    const mail = watcher.observe({ pauses: true, history: true, queue: "mail" }).subscribe((event) => {
      if (!("executionId" in event)) mailOnly.push(event);
    });
    // The replay runs once the observer listens: everything after it arrives live.
    await eventually(() => events.length > 0, { what: "the replayed pause" });
    expect(events[0]).toEqual({ kind: "paused", task: "probe", queue: "default", at: expect.any(Date), replayed: true });
    await other.pause({ queue: "mail" });
    await other.resume({ task: "probe" });
    await eventually(() => events.length === 3, { what: "the live pause and resume" });
    expect(events.slice(1)).toEqual([
      { kind: "paused", queue: "mail", at: expect.any(Date) },
      { kind: "resumed", task: "probe", queue: "default", at: expect.any(Date) },
    ]);
    const [{ paused_at }] = await db.sql`select paused_at from pgconductor.pauses where kind = 'queue' and name = 'mail'`;
    expect(events[1].at).toEqual(paused_at); // the database's time of the pause
    await other.pause({ task: "mail" });
    await eventually(() => events.length === 4, { what: "a task's pause" });
    expect(events[3]).toMatchObject({ kind: "paused", task: "mail", queue: "mail" });
    // The queue filter keeps the mail queue's pause and leaves out the default queue's task. This
    // observer's replay may run before or after the pause committed: either way it comes once.
    await eventually(() => mailOnly.length > 0, { what: "the mail queue's pause" });
    expect(mailOnly[0]).toMatchObject({ kind: "paused", queue: "mail", at: paused_at });
    // …and a task of the mail queue is the mail queue's too.
    await eventually(() => mailOnly.length === 2, { what: "the mail task's pause for the mail-queue observer" });
    expect(mailOnly[1]).toMatchObject({ kind: "paused", task: "mail", queue: "mail" });
    all.unsubscribe();
    mail.unsubscribe();

    // Without `pauses`, observe() stays execution events only.
    const seen: ExecutionEvent[] = [];
    const before = await other.invoke({ name: "probe" }, { n: 8 });
    const plain = watcher.observe({ history: true }).subscribe((event) => seen.push(event));
    await eventually(() => seen.some((event) => event.executionId === before), { what: "the replayed probe (the observer listens)" });
    await other.resume({ queue: "mail" });
    const after = await other.invoke({ name: "mail" }, { n: 9 });
    await eventually(() => seen.some((event) => event.executionId === after), { what: "the mail execution's events" });
    plain.unsubscribe();
    expect(seen.every((event) => "executionId" in event)).toBe(true);
  } finally {
    await watcher.close();
    await other.close();
  }
});
