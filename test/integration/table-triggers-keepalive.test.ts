import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "row-seen" })]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  // pg-logical-replication answers nothing by itself; we must report within this timeout.
  await db.sql.unsafe(`alter database ${new URL(db.url).pathname.slice(1)} set wal_sender_timeout = '1s'`);
  await db.sql`create table pings (id int primary key)`;
});
afterAll(async () => {
  await db.drop();
});

const walsender = async () => {
  const [row] = await db.sql<{ pid: number | null }[]>`
    select active_pid as pid from pg_replication_slots where database = current_database()`;
  return row?.pid ?? null;
};

test("an idle replication connection survives a short wal_sender_timeout", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const seen = conductor.createTask({ name: "row-seen" }, { schema: "public", table: "pings", operation: "insert", columns: "id" }, async () => {});
  await track(Orchestrator.create({ conductor, tasks: [seen], defaultWorker: { pollIntervalMs: hour }, handleSignals: false })).start();
  await db.sql`insert into pings values (1)`;
  await eventually(async () => (await db.sql`select 1 from pgconductor.executions where task_key = 'row-seen'`).length === 1, { what: "the first ping" });
  const pid = await eventually(walsender, { what: "the walsender" });

  // Idle for three timeouts: the scenario itself, not a synchronisation.
  await new Promise((resolve) => setTimeout(resolve, 3_000));

  expect(await walsender()).toBe(pid);
  await db.sql`insert into pings values (2)`;
  await eventually(async () => (await db.sql`select 1 from pgconductor.executions where task_key = 'row-seen'`).length === 2, { what: "the second ping" });
  expect(await walsender()).toBe(pid);
});
