import postgres from "postgres";
import { Conductor, Orchestrator, TaskSchemas, defineTask, ConfigurationError } from "pgconductor-js";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "account-created" }),
  defineTask({ name: "plan-changed" }),
  defineTask({ name: "account-deleted" }),
  defineTask({ name: "order-placed" }),
  defineTask({ name: "broken" }),
]);

let db: TestDatabase;
const track = trackOrchestrators();
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`create table accounts (id bigint primary key, email text not null, active boolean not null, plan text, note text)`;
  await db.sql`create table orders (id serial primary key, amount int not null)`;
});
afterAll(async () => {
  await db.drop();
});

function setup() {
  return Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
}

function orchestrate(conductor: ReturnType<typeof setup>, taskList: Parameters<typeof Orchestrator.create>[0]["tasks"]) {
  return track(Orchestrator.create({ conductor, tasks: taskList, defaultWorker: { pollIntervalMs: hour }, handleSignals: false, heartbeatIntervalMs: 200, leaseMs: 1_000 }));
}

async function executionsOf(task: string) {
  return db.sql<{ event_name: string; payload: any; status: string; dedupe_key: string }[]>`
    select event_name, payload, status, dedupe_key from pgconductor.executions where task_key = ${task} order by created_at, id`;
}

test("insert, update and delete triggers deliver the selected columns of matching changes", async () => {
  const conductor = setup();
  const seen: unknown[] = [];
  const created = conductor.createTask(
    { name: "account-created" },
    { schema: "public", table: "accounts", operation: "insert", columns: "id,email", when: "NEW.active = true" },
    async (event) => {
      seen.push(event);
    },
  );
  const planChanged = conductor.createTask(
    { name: "plan-changed" },
    { schema: "public", table: "accounts", operation: "update", columns: "id, plan", when: "OLD.plan IS DISTINCT FROM NEW.plan" },
    async () => {},
  );
  const deleted = conductor.createTask(
    { name: "account-deleted" },
    { schema: "public", table: "accounts", operation: "delete", columns: "id,email" },
    async () => {},
  );
  await orchestrate(conductor, [created, planChanged, deleted]).start();

  await db.sql`insert into accounts values (1, 'ada@example.com', true, 'free', null)`;
  await db.sql`insert into accounts values (2, 'bob@example.com', false, 'free', null)`;
  await db.sql`update accounts set plan = 'pro' where id = 1`;
  await db.sql`update accounts set note = 'only a note' where id = 1`;
  await db.sql`delete from accounts where id = 2`;
  // A last matching change: changes are written in commit order, so once it is there all are.
  await db.sql`insert into accounts values (3, 'cy@example.com', true, 'free', null)`;
  await eventually(async () => (await executionsOf("account-created")).length === 2, { what: "the sentinel insert" });

  const inserts = await executionsOf("account-created");
  expect(inserts.map((e) => e.payload)).toEqual([
    { tg_op: "INSERT", old: null, new: { id: 1, email: "ada@example.com" } },
    { tg_op: "INSERT", old: null, new: { id: 3, email: "cy@example.com" } },
  ]);
  expect(inserts[0].event_name).toBe("public.accounts.insert");
  expect(inserts[0].dedupe_key).toMatch(/^wal:[0-9A-F]+\/[0-9A-F]+:0$/);

  const updates = await executionsOf("plan-changed");
  expect(updates.map((e) => e.payload)).toEqual([{ tg_op: "UPDATE", old: { id: 1, plan: "free" }, new: { id: 1, plan: "pro" } }]);
  expect(updates[0].event_name).toBe("public.accounts.update");

  const deletes = await executionsOf("account-deleted");
  expect(deletes.map((e) => e.payload)).toEqual([{ tg_op: "DELETE", old: { id: 2, email: "bob@example.com" }, new: null }]);

  // Old values need the whole old row in the WAL.
  const [identity] = await db.sql`select relreplident from pg_class where oid = 'public.accounts'::regclass`;
  expect(identity.relreplident).toBe("f");

  await eventually(async () => seen.length === 2, { what: "handlers to run" });
  expect(seen[0]).toEqual({ name: "public.accounts.insert", payload: { tg_op: "INSERT", old: null, new: { id: 1, email: "ada@example.com" } } });
});

test("publications carry only the operations triggers need", async () => {
  const rows = await db.sql<{ pubname: string; tablename: string }[]>`
    select pubname, tablename from pg_publication_tables where pubname like 'pgconductor_%' order by pubname, tablename`;
  expect(rows.map((r) => `${r.pubname}:${r.tablename}`)).toEqual([
    "pgconductor_delete:accounts",
    "pgconductor_insert:accounts",
    "pgconductor_update:accounts",
  ]);
});

test("changes made while every orchestrator is stopped arrive after a restart", async () => {
  const conductor = setup();
  const placed = conductor.createTask({ name: "order-placed" }, { schema: "public", table: "orders", operation: "insert", columns: "id,amount" }, async () => {});
  const first = orchestrate(conductor, [placed]);
  await first.start();
  await db.sql`insert into orders (amount) values (1)`;
  await eventually(async () => (await executionsOf("order-placed")).length === 1, { what: "the first order" });
  await first.stop();

  await db.sql`insert into orders (amount) select g from generate_series(2, 50) g`;
  await db.sql`insert into orders (amount) values (51)`;

  const second = orchestrate(setup(), [placed]);
  await second.start();
  await eventually(async () => (await executionsOf("order-placed")).length === 51, { what: "all 51 orders" });
  const amounts = (await executionsOf("order-placed")).map((e) => e.payload.new.amount).sort((a: number, b: number) => a - b);
  expect(amounts).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  // Only the insert publication holds orders: the user's own UPDATE/DELETE on it stays unaffected.
  const [identity] = await db.sql`select relreplident from pg_class where oid = 'public.orders'::regclass`;
  expect(identity.relreplident).toBe("d");
});

test("a role without REPLICATION gets an error saying how to grant it", async () => {
  await setup().ensureInstalled();
  const role = `no_replication_${Date.now()}`;
  await db.sql.unsafe(`create role ${role} login password 'secret' nosuperuser noreplication`);
  await db.sql.unsafe(`grant usage on schema pgconductor to ${role}`);
  await db.sql.unsafe(`grant all on all tables in schema pgconductor to ${role}`);
  await db.sql.unsafe(`grant execute on all functions in schema pgconductor to ${role}`);
  const url = new URL(db.url);
  url.username = role;
  url.password = "secret";
  const sql = postgres(url.toString(), { onnotice: () => {} });
  try {
    const conductor = Conductor.create({ sql, tasks, context: {}, logger: silentLogger });
    const placed = conductor.createTask({ name: "order-placed" }, { schema: "public", table: "orders", operation: "insert", columns: "id" }, async () => {});
    const orchestrator = orchestrate(conductor, [placed]);
    await expect(orchestrator.start()).rejects.toThrow(new RegExp(`role "${role}" may not use replication.*ALTER ROLE "${role}" WITH REPLICATION`));
    await orchestrator.stop();
  } finally {
    await sql.end();
    await db.sql.unsafe(`drop owned by ${role}`);
    await db.sql.unsafe(`drop role ${role}`);
  }
});

describe("bad triggers are errors naming task, table and column, and record nothing", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown table", { schema: "public", table: "nope", operation: "insert", columns: "id" }, /createTask "broken".*public\.nope.*does not exist/],
    ["unknown column", { schema: "public", table: "orders", operation: "insert", columns: "id,colour" }, /createTask "broken".*public\.orders.*column "colour" does not exist/],
    ["bad when", { schema: "public", table: "orders", operation: "insert", columns: "id", when: "NEW.amount >" }, /createTask "broken".*when "NEW.amount >" is not a valid/],
    ["when on an unknown column", { schema: "public", table: "orders", operation: "insert", columns: "id", when: "NEW.colour = 'red'" }, /createTask "broken".*colour/],
    ["when that is not boolean", { schema: "public", table: "orders", operation: "insert", columns: "id", when: "NEW.amount + 1" }, /createTask "broken".*when "NEW.amount \+ 1"/],
  ];
  test.each(cases)("%s", async (_label, trigger, message) => {
    const conductor = setup();
    const broken = conductor.createTask({ name: "broken" }, trigger as never, async () => {});
    const orchestrator = orchestrate(conductor, [broken]);
    await expect(orchestrator.start()).rejects.toThrow(ConfigurationError);
    await expect(orchestrator.start()).rejects.toThrow(message);
    const recorded = await db.sql`select 1 from pgconductor.table_triggers where task_key = 'broken'`;
    expect(recorded).toHaveLength(0);
  });

  test("shape errors at createTask", () => {
    const conductor = setup();
    const make = (trigger: unknown) => () => conductor.createTask({ name: "broken" }, trigger as never, async () => {});
    expect(make({ schema: "public", table: "orders", operation: "insert" })).toThrow(/createTask "broken", trigger 1 \(table trigger\): columns is required/);
    expect(make({ schema: "public", table: "orders", operation: "upsert", columns: "id" })).toThrow(/operation must be "insert", "update" or "delete"/);
    expect(make({ table: "orders", operation: "insert", columns: "id" })).toThrow(/schema is required/);
    expect(make({ schema: "public", table: "orders", operation: "insert", columns: "id,,amount" })).toThrow(/empty name/);
    expect(make({ schema: "public", table: "orders", operation: "insert", columns: "id", colums: "x" })).toThrow(/unknown field "colums"/);
  });
});

test("a trigger another orchestrator adds is served by the running consumer", async () => {
  await db.sql`create table first_table (id int primary key)`;
  await db.sql`create table second_table (id int primary key)`;
  const one = setup();
  const first = one.createTask({ name: "account-created" }, { schema: "public", table: "first_table", operation: "insert", columns: "id" }, async () => {});
  await orchestrate(one, [first]).start();
  await db.sql`insert into first_table values (1)`;
  await eventually(async () => (await executionsOf("account-created")).some((e) => e.event_name === "public.first_table.insert"), { what: "the consumer to run" });

  // The second orchestrator does not win the election; the first one serves its trigger.
  const two = setup();
  const second = two.createTask({ name: "plan-changed" }, { schema: "public", table: "second_table", operation: "insert", columns: "id" }, async () => {});
  await orchestrate(two, [second]).start();
  await db.sql`insert into second_table values (2)`;
  await eventually(async () => (await executionsOf("plan-changed")).some((e) => e.event_name === "public.second_table.insert"), { what: "the new trigger's change" });
});

test("an unchanged TOASTed column of an update arrives with its value", async () => {
  await db.sql`create table documents (id int primary key, title text not null, body text not null)`;
  const conductor = setup();
  const changed = conductor.createTask({ name: "order-placed" }, { schema: "public", table: "documents", operation: "update", columns: "title,body" }, async () => {});
  await orchestrate(conductor, [changed]).start();
  // Random text does not compress, so the body is stored out of line (TOASTed).
  const body = Array.from({ length: 400 }, () => Math.random().toString(36).slice(2)).join("");
  await db.sql`insert into documents values (1, 'draft', ${body})`;
  await db.sql`update documents set title = 'final' where id = 1`;
  await eventually(async () => (await executionsOf("order-placed")).some((e) => e.event_name === "public.documents.update"), { what: "the update" });
  const [update] = (await executionsOf("order-placed")).filter((e) => e.event_name === "public.documents.update");
  expect(update.payload.new).toEqual({ title: "final", body });
  expect(update.payload.old).toEqual({ title: "draft", body });
});

test("a partitioned table's changes arrive under its own name", async () => {
  await db.sql`create table measurements (id int not null, at date not null) partition by range (at)`;
  await db.sql`create table measurements_2026 partition of measurements for values from ('2026-01-01') to ('2027-01-01')`;
  const conductor = setup();
  const measured = conductor.createTask({ name: "order-placed" }, { schema: "public", table: "measurements", operation: "insert", columns: "id" }, async () => {});
  await orchestrate(conductor, [measured]).start();
  await db.sql`insert into measurements values (7, '2026-06-01')`;
  await eventually(async () => (await executionsOf("order-placed")).some((e) => e.event_name === "public.measurements.insert"), { what: "the insert" });
  const [insert] = (await executionsOf("order-placed")).filter((e) => e.event_name === "public.measurements.insert");
  expect(insert.payload.new).toEqual({ id: 7 });
});

test("a when that fails on one row skips that row only; the stream goes on", async () => {
  await db.sql`create table readings (id int primary key, divisor int not null)`;
  const conductor = setup();
  const read = conductor.createTask({ name: "order-placed" }, { schema: "public", table: "readings", operation: "insert", columns: "id", when: "100 / NEW.divisor > 1" }, async () => {});
  await orchestrate(conductor, [read]).start();
  await db.sql`insert into readings values (1, 10), (2, 0), (3, 50)`;
  await db.sql`insert into readings values (4, 1000)`;
  await db.sql`insert into readings values (5, 20)`;
  const ids = async () =>
    (await executionsOf("order-placed")).filter((e) => e.event_name === "public.readings.insert").map((e) => e.payload.new.id).sort();
  await eventually(async () => (await ids()).includes(5), { what: "the last reading" });
  expect(await ids()).toEqual([1, 3, 5]);
});

test("when no table triggers remain, the slot and the publications are dropped", async () => {
  const conductor = setup();
  const slotsBefore = await db.sql`select 1 from pg_replication_slots where database = current_database()`;
  expect(slotsBefore).toHaveLength(1);
  // The same tasks, now without table triggers.
  const plain = (["account-created", "plan-changed", "account-deleted", "order-placed"] as const).map((name) =>
    conductor.createTask({ name }, { invocable: true }, async () => {}),
  );
  await orchestrate(conductor, plain).start();
  expect(await db.sql`select 1 from pgconductor.table_triggers`).toHaveLength(0);
  expect(await db.sql`select 1 from pg_replication_slots where database = current_database()`).toHaveLength(0);
  expect(await db.sql`select 1 from pg_publication where pubname like 'pgconductor_%'`).toHaveLength(0);
});
