/**
 * Our statements send no NOTICE to the user's own postgres.js client (whose default onnotice
 * prints each as an object on the console): not while installing, starting (with and without
 * table triggers, the publications reshaped and dropped), running or stopping.
 */
import postgres, { type Notice } from "postgres";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();
const tasks = TaskSchemas.fromSchema([defineTask({ name: "plain" }), defineTask({ name: "on-insert" })]);

test("install, start, run and stop through a user's client send it no NOTICE", async () => {
  const notices: Notice[] = [];
  const logged: unknown[] = [];
  const originalLog = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  const sql = postgres(db.url, { onnotice: (notice) => notices.push(notice) });
  try {
    await db.sql`create table public.orders (id int primary key, total int)`;
    const conductor = Conductor.create({ sql, tasks, context: {}, logger: silentLogger });
    await conductor.ensureInstalled();
    await conductor.ensureInstalled();

    // With a table trigger: publications and the slot are created.
    const plain = conductor.createTask({ name: "plain" }, { invocable: true }, async () => "ok");
    const onInsert = conductor.createTask({ name: "on-insert" }, { schema: "public", table: "orders", operation: "insert", columns: "id" }, async () => {});
    const first = Orchestrator.create({ conductor, tasks: [plain, onInsert], handleSignals: false });
    await first.start();
    await conductor.invokeAndWait({ name: "plain" }, {}, { timeoutMs: 30_000 });
    await first.stop();

    // Without table triggers: the publications and the slot are dropped.
    const second = Conductor.create({ sql, tasks, context: {}, logger: silentLogger });
    const plainOnly = second.createTask({ name: "plain" }, { invocable: true }, async () => "ok");
    const noLongerOnInsert = second.createTask({ name: "on-insert" }, { invocable: true }, async () => {});
    const orchestrator = Orchestrator.create({ conductor: second, tasks: [plainOnly, noLongerOnInsert], handleSignals: false });
    await orchestrator.start();
    await orchestrator.stop();
    expect(await db.sql`select 1 from pg_publication where pubname like 'pgconductor_%'`).toHaveLength(0);

    // And a start on a database with nothing of ours to drop.
    const third = Orchestrator.create({ conductor: second, tasks: [plainOnly], handleSignals: false });
    await third.start();
    await third.stop();
    await conductor.close();
    await second.close();
  } finally {
    console.log = originalLog;
    await sql.end({ timeout: 5 });
  }
  expect(notices.map((n) => n.message)).toEqual([]);
  expect(logged).toEqual([]);
}, 60_000);
