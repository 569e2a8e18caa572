/**
 * The heartbeat releases rows its orchestrator locks but does not name (a claim whose reply was
 * lost), once they are older than the grace. The names are a snapshot taken before the statement
 * is sent, and the statement can wait for a free connection: the grace counts back from the
 * snapshot's time, so a claim answered after the snapshot is not released while it runs.
 */
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { heartbeat, registerOrchestrator } from "../../../src/db/orchestrators";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();
const orchestrator = "00000000-0000-4000-8000-0000000000aa";

test("a row claimed after the held snapshot is kept; one claimed a grace before it is released", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "t" })]), context: {}, logger: silentLogger });
  await conductor.ensureInstalled();
  await registerOrchestrator(db.sql, orchestrator, "host", 1, 20);
  const id = await conductor.invoke({ name: "t" }, {});
  // Claimed two minutes ago, before the previous beat (a minute ago).
  await db.sql`update pgconductor.executions set status = 'running', locked_by = ${orchestrator}::uuid, locked_at = now() - interval '120 s', attempts = 1 where id = ${id}::uuid`;
  await db.sql`update pgconductor.orchestrators set last_heartbeat_at = now() - interval '60 s' where id = ${orchestrator}::uuid`;
  const [{ now }] = await db.sql<{ now: Date }[]>`select now() as now`;

  // The names were taken 200 s ago (the statement waited): the row was claimed after that snapshot.
  const late = await heartbeat(db.sql, orchestrator, [], 1_000, now.getTime() - 200_000);
  expect(late.released).toBe(0);
  expect((await db.sql`select status from pgconductor.executions where id = ${id}::uuid`)[0].status).toBe("running");

  await db.sql`update pgconductor.orchestrators set last_heartbeat_at = now() - interval '60 s' where id = ${orchestrator}::uuid`;
  const prompt = await heartbeat(db.sql, orchestrator, [], 1_000, now.getTime());
  expect(prompt.released).toBe(1);
  expect((await db.sql`select status from pgconductor.executions where id = ${id}::uuid`)[0].status).toBe("pending");

  // The three-argument form older releases call: the snapshot is when the statement runs.
  await db.sql`update pgconductor.executions set status = 'running', locked_by = ${orchestrator}::uuid, locked_at = now() - interval '120 s' where id = ${id}::uuid`;
  await db.sql`update pgconductor.orchestrators set last_heartbeat_at = now() - interval '60 s' where id = ${orchestrator}::uuid`;
  const [old] = await db.sql<{ released_count: number }[]>`select * from pgconductor.heartbeat(${orchestrator}::uuid, '{}'::uuid[], 1000)`;
  expect(old.released_count).toBe(1);
});
