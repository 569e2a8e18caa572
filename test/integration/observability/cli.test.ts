import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { OBSERVER_APPLICATION_NAME } from "../../../src/api/observability";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, statusOf, trackOrchestrators } from "../../support/helpers";

const BIN = join(__dirname, "..", "..", "..", "bin", "pgconductor.js");

const db = useTestDatabase();
const track = trackOrchestrators();

interface Run { code: number | null; stdout: string; stderr: string }

function start(args: string[], env: Record<string, string | undefined> = { DATABASE_URL: db.url }) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: undefined, NO_COLOR: "1", ...env } });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.once("close", (code) => resolve({ code, ...output })));
  return { child, output, done };
}
const cli = (args: string[], env?: Record<string, string | undefined>) => start(args, env).done;

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "echo", payload: z.object({ text: z.string() }), returns: z.object({ text: z.string() }) }),
  defineTask({ name: "two-steps", payload: z.object({}) }),
]);

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (event) => ({ text: event.payload.text }));
  let failNext = true;
  const stepRuns: string[] = [];
  const twoSteps = conductor.createTask({ name: "two-steps", maxAttempts: 1 }, { invocable: true }, async (_event, ctx) => {
    await ctx.step("first", async () => stepRuns.push("first"));
    if (failNext) {
      failNext = false;
      throw new Error("second part failed");
    }
    stepRuns.push("second");
    return "done";
  });
  const orchestrator = () => track(Orchestrator.create({ conductor, tasks: [echo, twoSteps], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator, stepRuns };
}

test("migrate installs the schema once; running it again changes nothing", async () => {
  const first = await cli(["migrate"]);
  expect(first).toMatchObject({ code: 0 });
  expect(first.stdout).toMatch(/^applied 001, 002, .*; schema version \d+\n$/);
  const again = await cli(["migrate", "--db-url", db.url], {});
  expect(again.stdout).toMatch(/^schema is up to date \(version \d+\)\n$/);
});

test("bad arguments print the usage line and exit non-zero; --help works on every command", async () => {
  const badId = await cli(["retry", "not-a-uuid"]);
  expect(badId.code).toBe(2);
  expect(badId.stderr).toContain('"not-a-uuid" is not an execution id');
  expect(badId.stderr).toContain("usage: pgconductor retry <execution-id>");
  const unknownFlag = await cli(["status", "--verbose"]);
  expect(unknownFlag.code).toBe(2);
  expect(unknownFlag.stderr).toMatch(/Unknown option '--verbose'[\s\S]*usage: pgconductor status/);
  const noDb = await cli(["status"], {});
  expect(noDb.code).toBe(2);
  expect(noDb.stderr).toContain("no database: pass --db-url URL or set DATABASE_URL");
  expect((await cli(["nonsense"])).code).toBe(2);
  expect((await cli(["gen", "types", "python"])).stderr).toContain('unknown language "python"');
  for (const command of [["migrate"], ["status"], ["watch"], ["retry"], ["cancel"], ["gen", "types"]]) {
    const help = await cli([...command, "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`usage: pgconductor ${command.join(" ")}`);
  }
});

test("status counts executions per queue and lists orchestrators with their heartbeat age", async () => {
  const { conductor, orchestrator } = setup();
  await conductor.invoke({ name: "echo" }, [{ payload: { text: "a" } }, { payload: { text: "b" } }]);
  await conductor.invoke({ name: "echo" }, { text: "later" }, { run_at: new Date(Date.now() + hour) });
  await conductor.invoke({ name: "echo", queue: "other" }, { text: "elsewhere" });
  const running = Orchestrator.create({ conductor, tasks: [], workers: [], handleSignals: false });
  track(running);
  await running.start();
  const slot = `pgconductor_cli_${Date.now()}`;
  await db.sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  await db.sql`create table if not exists wal_filler (x text)`;
  await db.sql`insert into wal_filler select repeat('x', 1000) from generate_series(1, 100)`;
  const { code, stdout } = await cli(["status"]).finally(() => db.sql`select pg_drop_replication_slot(${slot})`);
  expect(code).toBe(0);
  expect(stdout).toMatch(/queue\s+runnable\s+delayed\s+running\s+failed/);
  expect(stdout).toMatch(/default\s+2\s+1\s+0\s+0/);
  expect(stdout).toMatch(/other\s+1\s+0\s+0\s+0/);
  expect(stdout).toContain(running.id);
  expect(stdout).toMatch(/\d+s ago/);
  expect(stdout).toMatch(new RegExp(`Replication slots\\n\\s+slot\\s+active\\s+lag\\n\\s+${slot}\\s+no\\s+\\d+(\\.\\d)? (kB|MB)`));
  await running.stop();
  await db.sql`delete from pgconductor.executions`;
  void orchestrator;
});

test("retry runs a failed execution again with its steps kept; cancel cancels", async () => {
  const { conductor, orchestrator, stepRuns } = setup();
  const id = await conductor.invoke({ name: "two-steps" }, {});
  await orchestrator().drain();
  expect(await statusOf(db.sql, id)).toBe("failed");

  const retried = await cli(["retry", id]);
  expect(retried).toMatchObject({ code: 0, stdout: `${id} will run again (completed steps are kept)\n` });
  await orchestrator().drain();
  expect(await statusOf(db.sql, id)).toBe("completed");
  expect(stepRuns).toEqual(["first", "second"]); // "first" did not run twice
  const notFailed = await cli(["retry", id]);
  expect(notFailed).toMatchObject({ code: 1, stderr: `${id} is completed; only failed executions can be retried\n` });

  const pending = await conductor.invoke({ name: "echo" }, { text: "never" }, { run_at: new Date(Date.now() + hour) });
  expect(await cli(["cancel", pending, "--reason", "from the command line"])).toMatchObject({ code: 0, stdout: `cancelled ${pending}\n` });
  expect((await conductor.getExecution(pending))?.cancelReason).toBe("from the command line");
  expect(await cli(["cancel", pending])).toMatchObject({ code: 1, stderr: `${pending} is already cancelled; nothing to cancel\n` });
  expect(await cli(["cancel", "00000000-0000-0000-0000-000000000000"])).toMatchObject({ code: 1, stderr: "no execution 00000000-0000-0000-0000-000000000000\n" });
});

test("watch tails execution events until interrupted, then leaves no connection behind", async () => {
  const { conductor, orchestrator } = setup();
  const watch = start(["watch", "--task", "echo"]);
  await eventually(() => watch.output.stderr.includes("watching executions"), { what: "watch to start" });
  await eventually(async () => (await db.sql`select 1 from pgconductor.observers`).length > 0, { what: "watch to register" });
  await orchestrator().start();
  const id = await conductor.invoke({ name: "echo" }, { text: "tail me" });
  await eventually(() => watch.output.stdout.includes("completed"), { what: "the completed line" });
  const lines = watch.output.stdout.trim().split("\n").filter((line) => line.includes(id));
  expect(lines.map((line) => line.split(/\s+/)[1])).toEqual(["created", "started", "completed"]);
  expect(lines[2]).toMatch(new RegExp(`^\\S+Z\\s+completed\\s+echo\\s+default\\s+${id}\\s+#1\\s+\\{"text":"tail me"\\}$`));
  watch.child.kill("SIGINT");
  expect((await watch.done).code).toBe(0);
  const observerBackends = async () =>
    (await db.sql`select count(*)::int as n from pg_stat_activity where application_name = ${OBSERVER_APPLICATION_NAME}`)[0].n as number;
  // The server ends the backend a moment after the exited client's socket closed.
  await eventually(async () => (await observerBackends()) === 0, { what: "the observer backend to exit" });
  expect(await observerBackends()).toBe(0);
  expect((await db.sql`select * from pgconductor.observers`).length).toBe(0);
});

test("gen types typescript prints the Database type of a schema", async () => {
  await db.sql.unsafe(`
    create schema shop;
    create type shop.mood as enum ('happy', 'sad');
    create table shop.users (
      id bigint generated always as identity primary key,
      email text not null,
      nickname varchar(40),
      age integer not null default 0,
      score double precision,
      active boolean not null default true,
      tags text[] not null default '{}',
      profile jsonb,
      mood shop.mood,
      created_at timestamptz not null default now(),
      "display name" text generated always as (coalesce(nickname, email)) stored
    );
    create table shop.orders (id uuid primary key default gen_random_uuid(), user_id bigint not null references shop.users (id), total numeric(10, 2) not null);
    create view shop.big_orders as select id, total from shop.orders where total > 100;
    create function shop.add(a integer, b integer default 1) returns integer language sql as 'select a + b';
  `);
  const { code, stdout, stderr } = await cli(["gen", "types", "typescript", "--schemas", "shop"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const expected = [
    "      users: {",
    "        Row: {",
    "          id: number",
    "          email: string",
    "          nickname: string | null",
    "          age: number",
    "          score: number | null",
    "          active: boolean",
    "          tags: string[]",
    "          profile: Json | null",
    '          mood: Database["shop"]["Enums"]["mood"] | null',
    "          created_at: string",
    '          "display name": string | null',
    "        }",
    "        Insert: {",
    "          id?: never",
    "          email: string",
    "          nickname?: string | null",
    "          age?: number",
    "          score?: number | null",
    "          active?: boolean",
    "          tags?: string[]",
    "          profile?: Json | null",
    '          mood?: Database["shop"]["Enums"]["mood"] | null',
    "          created_at?: string",
    '          "display name"?: never',
    "        }",
    "        Update: {",
    "          id?: never",
    "          email?: string",
  ].join("\n");
  expect(stdout).toContain(expected);
  expect(stdout).toContain("export type Database = {\n  shop: {\n    Tables: {");
  expect(stdout).toContain('mood: "happy" | "sad"');
  expect(stdout).toContain('referencedRelation: "users"');
  expect(stdout).toContain("      big_orders: {\n        Row: {\n          id: string | null\n          total: number | null");
  expect(stdout).toContain("      add: {\n        Args: {\n          a: number\n          b?: number\n        }\n        Returns: number");
  expect((await cli(["gen", "types", "typescript", "--schemas", "nope"])).stderr).toBe('no schema named "nope" in this database\n');

  // The output is valid TypeScript, and the shapes hold: required Insert fields, read-only columns.
  const directory = mkdtempSync(join(tmpdir(), "pgconductor-types-"));
  const file = join(directory, "check.ts");
  writeFileSync(file, `${stdout}
type Users = Database["shop"]["Tables"]["users"];
const ok: Users["Insert"] = { email: "a@b.c", mood: "happy", tags: ["x"] };
// @ts-expect-error email is required
const missing: Users["Insert"] = {};
// @ts-expect-error identity columns cannot be written
const identity: Users["Update"] = { id: 1 };
// @ts-expect-error not a label of the enum
const badMood: Users["Row"]["mood"] = "angry";
export { ok, missing, identity, badMood };
`);
  const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022 });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  rmSync(directory, { recursive: true, force: true });
  expect(problems).toEqual([]);
});
