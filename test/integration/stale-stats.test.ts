/**
 * sql/023_stale_stats.sql: a table emptied and vacuumed keeps reltuples = 0 while a burst refills it,
 * and until it is analyzed the claim is planned for an empty table. refresh_stale_stats analyzes it
 * when the estimate is below half of the unfinished rows, and leaves a table with true figures alone.
 */
import { Conductor, TaskSchemas } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { refreshStaleStats } from "../../src/db/maintenance";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();

beforeAll(async () => {
  await Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([]), context: {}, logger: silentLogger }).ensureInstalled();
});

async function estimate(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select reltuples::float8 as n from pg_class where oid = 'pgconductor.executions'::regclass`;
  return row.n;
}

async function emptiedAndVacuumed(): Promise<void> {
  await db.sql`insert into pgconductor.executions (task_key, payload, status) select 'stale', '{}', 'completed' from generate_series(1, 3000)`;
  await db.sql`delete from pgconductor.executions`;
  await db.sql.unsafe("vacuum pgconductor.executions");
}

test("a burst into a table the planner believes empty is analyzed once; true statistics are left alone", async () => {
  await emptiedAndVacuumed();
  expect(await estimate()).toBe(0);
  await db.sql`insert into pgconductor.executions (task_key, payload) select 'stale', jsonb_build_object('seq', g) from generate_series(1, 5000) g`;

  const first = await refreshStaleStats(db.sql, 1000);
  expect(first).toMatchObject({ unfinished: 2000, analyzed: true });
  expect(first.estimate).toBeGreaterThan(4000);
  expect(await estimate()).toBeGreaterThan(4000);

  // Now the figures are true: nothing to do.
  const second = await refreshStaleStats(db.sql, 1000);
  expect(second).toMatchObject({ analyzed: false });

  // After ANALYZE the claim walks the claim index under its limit.
  const [{ "QUERY PLAN": plan }] = await db.sql.unsafe(`explain (format json)
    select c.id from pgconductor.executions c
    where c.queue = 'default' and c.status = 'pending' and c.run_at <= now() and c.task_key = any ('{stale}'::text[])
    order by c.priority desc, c.run_at, c.id limit 400 for update skip locked`);
  expect(JSON.stringify(plan)).toContain("executions_claim_idx");
  expect(JSON.stringify(plan)).not.toContain('"Sort"');
});

test("below the threshold of unfinished executions nothing is analyzed", async () => {
  await emptiedAndVacuumed();
  await db.sql`insert into pgconductor.executions (task_key, payload) select 'stale', '{}' from generate_series(1, 500)`;
  const result = await refreshStaleStats(db.sql, 1000);
  expect(result).toMatchObject({ unfinished: 500, analyzed: false });
  expect(await estimate()).toBe(0);
});
