/**
 * A step write that fails because the database is briefly away is retried, not taken for the
 * handler's failure: through a TCP proxy, (1) every connection is cut and new ones refused for a
 * moment right as a step finishes, and (2) the reply to a step write is lost after it committed.
 * Each execution completes with one attempt, no error recorded, and each step's side effect once.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { eventually, executionRow, hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { startTcpProxyTo, type TcpProxy } from "../../support/faults/tcp-proxy";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "two-steps", payload: z.object({ fault: z.enum(["outage", "lost-reply"]) }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();
let proxy: TcpProxy;
let sql: postgres.Sql;

beforeAll(async () => {
  proxy = await startTcpProxyTo(db.url);
  sql = postgres(proxy.urlFor(db.url), { onnotice: () => {}, backoff: () => 0.05 });
  await db.sql`create table side_effects (execution_id uuid, name text)`;
});
afterAll(async () => {
  await sql.end({ timeout: 5 });
  await proxy.close();
});

test("steps written across a brief outage and a lost reply cost no attempt", async () => {
  const conductor = Conductor.create({ sql, tasks, context: {}, logger: silentLogger });
  const task = conductor.createTask({ name: "two-steps" }, { invocable: true }, async (event, ctx) => {
    for (const name of ["one", "two"]) {
      await ctx.step(name, async () => {
        await db.sql`insert into side_effects values (${ctx.executionId}, ${name})`; // direct, not through the proxy
        if (name === "one" && event.payload.fault === "outage") {
          proxy.refuse();
          proxy.cut();
          setTimeout(() => proxy.resume(), 300); // the database is away for 300 ms
        }
        if (name === "one" && event.payload.fault === "lost-reply") proxy.cutOnReplyTo(/insert into pgconductor\.steps/, 1);
        return name;
      });
    }
    return "done";
  });
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [task], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  for (const fault of ["outage", "lost-reply"] as const) {
    const id = await conductor.invoke({ name: "two-steps" }, { fault });
    await eventually(async () => (await statusOf(db.sql, id)) === "completed", { what: `the execution through a ${fault}` });
    const row = await executionRow(db.sql, id);
    expect({ fault, attempts: row.attempts, lastError: row.last_error }).toEqual({ fault, attempts: 1, lastError: null });
    const effects = await db.sql`select name, count(*)::int as n from side_effects where execution_id = ${id} group by name order by name`;
    expect(effects).toEqual([{ name: "one", n: 1 }, { name: "two", n: 1 }]);
  }
  expect(proxy.cutCount).toBeGreaterThan(0);
  await orchestrator.stop();
});

