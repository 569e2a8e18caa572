/**
 * Issue 11, item 7: maintenance's advisory lock used to be the replication consumer's session lock,
 * so retention never ran where a table trigger existed (the leader held it for good, everyone else
 * saw it taken). With a real consumer leading — its orchestrator holding the session lock and
 * turning row changes into executions — maintenance runs, on the leader and on another orchestrator,
 * deletes what retention says, and the consumer keeps leading and consuming.
 */
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { REPLICATION_CONSUMER_LOCK } from "../../../src/model/locks";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "row-seen" })]);
const db = useTestDatabase();
const track = trackOrchestrators();

/** Whether some session holds the consumer's advisory lock (a bigint key: classid is its high half). */
async function consumerLeads(): Promise<boolean> {
  const key = BigInt(REPLICATION_CONSUMER_LOCK);
  const [row] = await db.sql<{ held: boolean }[]>`
    select exists (select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
      and classid = ${Number(key >> 32n)} and objid = ${Number(key & 0xffffffffn)} and objsubid = 1) as held`;
  return row.held;
}

async function finishedDaysAgo(days: number): Promise<string> {
  const [row] = await db.sql<{ id: string }[]>`
    insert into pgconductor.executions (task_key, status, finished_at)
    values ('row-seen', 'completed', now() - make_interval(secs => ${days * 86400})) returning id`;
  return row.id;
}

test("retention deletes while a table-trigger consumer holds its lock, on the leader and on another orchestrator", async () => {
  await db.sql`create table watched (id int primary key)`;
  const orchestrators = [0, 1].map(() => {
    const conductor = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    const rowSeen = conductor.createTask({ name: "row-seen", removeOnComplete: { days: 1 } }, { schema: "public", table: "watched", operation: "insert", columns: "id" }, async () => {});
    return track(Orchestrator.create({ conductor, tasks: [rowSeen], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  });
  await orchestrators[0].start();
  await eventually(consumerLeads, { what: "the replication consumer to lead" });
  await orchestrators[1].start();
  await db.sql`insert into watched values (1)`;
  await eventually(async () => (await db.sql`select 1 from pgconductor.executions where task_key = 'row-seen' and status = 'completed' and payload->'new'->>'id' = '1'`).length === 1, {
    what: "the consumer to turn a row change into a completed execution",
  });

  for (const orchestrator of orchestrators) {
    const doomed = await finishedDaysAgo(3);
    const kept = await finishedDaysAgo(0.5);
    const report = await orchestrator.runMaintenance();
    expect(report).not.toBeNull(); // null: it found the maintenance lock taken
    const left = (await db.sql<{ id: string }[]>`select id from pgconductor.executions where id = any(${[doomed, kept]}::uuid[])`).map((r) => r.id);
    expect(left).toEqual([kept]);
    expect(await consumerLeads()).toBe(true);
  }

  // The consumer still consumes after maintenance ran beside it.
  await db.sql`insert into watched values (2)`;
  await eventually(async () => (await db.sql`select 1 from pgconductor.executions where task_key = 'row-seen' and payload->'new'->>'id' = '2'`).length === 1, {
    what: "the next row change",
  });
});
