import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../support/database";
import { eventually, hour, trackOrchestrators } from "../support/helpers";
import { silentLogger } from "../../src/model/logger";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "row-seen" })]);

const db = useTestDatabase();
const track = trackOrchestrators();

/** An orchestrator with its own Conductor running "row-seen" for inserts into `table`. */
function orchestratorFor(table: string) {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const rowSeen = conductor.createTask({ name: "row-seen" }, { schema: "public", table, operation: "insert", columns: "id" }, async () => {});
  return track(Orchestrator.create({ conductor, tasks: [rowSeen], defaultWorker: { pollIntervalMs: hour }, handleSignals: false, heartbeatIntervalMs: 200, leaseMs: 1_000 }));
}

/** Executions per changed row: every row must have exactly one. */
async function tally(table: string) {
  const [row] = await db.sql<{ executions: number; rows: number; once: number }[]>`
    select count(*)::int as executions, count(distinct payload->'new'->>'id')::int as rows,
      (select count(*)::int from (select 1 from pgconductor.executions
        where task_key = 'row-seen' and event_name = ${`public.${table}.insert`}
        group by payload->'new'->>'id' having count(*) = 1) once) as once
    from pgconductor.executions where task_key = 'row-seen' and event_name = ${`public.${table}.insert`}`;
  return row;
}

/** Inserts `total` rows in transactions of `perTransaction`, calling `between` after each. */
async function insertRows(table: string, total: number, perTransaction: number, between: (done: number) => Promise<void> | void = () => {}) {
  for (let done = 0; done < total; done += perTransaction) {
    await db.sql.unsafe(`insert into ${table} (id) select g from generate_series(${done + 1}, ${done + perTransaction}) g`);
    await between(done + perTransaction);
  }
}

test("three orchestrators, 1,000 changes: 1,000 executions, none twice", async () => {
  await db.sql`create table three_way (id int primary key)`;
  const orchestrators = [orchestratorFor("three_way"), orchestratorFor("three_way"), orchestratorFor("three_way")];
  await Promise.all(orchestrators.map((o) => o.start()));
  await insertRows("three_way", 1_000, 4);
  await eventually(async () => (await tally("three_way")).executions >= 1_000, { what: "1,000 executions", timeoutMs: 30_000 });
  // One more change after the 1,000: once it is in, anything written twice would be too.
  await db.sql`insert into three_way values (1001)`;
  await eventually(async () => (await tally("three_way")).rows === 1_001, { what: "the sentinel" });
  expect(await tally("three_way")).toEqual({ executions: 1_001, rows: 1_001, once: 1_001 });
});

test("the consumer killed with SIGKILL mid-stream: another takes over, still one execution per change", async () => {
  await db.sql`create table killed (id int primary key)`;
  const child = startFixture("killed");
  try {
    await child.waitFor(/consumes the replication slot/);
    const others = [orchestratorFor("killed"), orchestratorFor("killed")];
    await Promise.all(others.map((o) => o.start()));

    let killed = false;
    await insertRows("killed", 1_000, 5, async (done) => {
      if (killed || done < 300) return;
      // Wait until the child has turned some changes into executions, then kill it mid-stream.
      await eventually(async () => (await tally("killed")).executions > 0, { what: "the child to consume" });
      child.process.kill("SIGKILL");
      killed = true;
    });
    expect(killed).toBe(true);
    await child.exited;
    expect(child.process.signalCode).toBe("SIGKILL");
    await eventually(async () => (await tally("killed")).executions >= 1_000, { what: "1,000 executions after the takeover", timeoutMs: 30_000 });
    await db.sql`insert into killed values (1001)`;
    await eventually(async () => (await tally("killed")).rows === 1_001, { what: "the sentinel" });
    expect(await tally("killed")).toEqual({ executions: 1_001, rows: 1_001, once: 1_001 });
  } finally {
    child.process.kill("SIGKILL");
  }
});

function startFixture(table: string) {
  // Node itself with tsx's loader (the tsx command would run the script in a grandchild SIGKILL misses).
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(__dirname, "..", "fixtures", "table-change-consumer.ts"), db.url, table], {
    cwd: join(__dirname, "..", ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    exited,
    waitFor: (pattern: RegExp) => eventually(() => pattern.test(output), { what: `the child to log ${pattern}`, timeoutMs: 30_000 }),
  };
}
