/**
 * postgres.js 3.4.9 resets its row counter only when a statement completes: after a statement fails
 * having sent some rows, the next result on that connection starts with that many empty slots.
 * A claim read so handed `undefined` to a worker (TypeError reading task_key) and left its slots
 * counted wrong, so stop() never finished (seen in the table-trigger test of a failing `when`).
 * The claim reads drop the holes, and the `when` statement fails before sending any row. The copy
 * `npm ci` installs here is guarded against the bug itself (scripts/patch-postgres.js); an app's
 * copy may not be.
 */
import postgres from "postgres";
import { randomUUID } from "node:crypto";
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { claimExecutions } from "../../../src/db/claim";
import { passingWhen, whenStatement } from "../../../src/db/table-trigger-when";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();
const failAfterTwoRows = (sql: postgres.Sql) =>
  sql`select case when n = 3 then 1 / (n - 3) else n end as v from generate_series(1, 5) n`.catch(() => null);

test("after a statement that failed mid-stream, the next result and a claim read hold only rows", async () => {
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await failAfterTwoRows(sql);
    const next = await sql`select 1 as x`;
    expect(next.length).toBe(1); // unguarded 3.4.9: 3, two empty slots first (postgres-guards.test.ts)

    const conductor = Conductor.create({ sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "t" })]), logger: silentLogger });
    const ids = await conductor.invoke({ name: "t" }, [{ payload: 1 }, { payload: 2 }]);
    await failAfterTwoRows(sql);
    const claimed = await claimExecutions(sql, randomUUID(), "default", ["t"], 10);
    expect(claimed).toHaveLength(2);
    expect(Array.from(claimed, (row) => row?.id).sort()).toStrictEqual([...ids].sort());
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test("a `when` that fails on one candidate sends no row first, so the next statement reads cleanly", async () => {
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await db.sql`create table gauges (id int primary key, divisor int not null)`;
    const trigger = { schema: "public", table: "gauges", when: "100 / NEW.divisor > 1" };
    const statement = whenStatement([trigger]);
    const inputs = [10, 20, 0, 5].map((divisor, id) => ({ trigger, newRow: { id, divisor }, oldRow: null }));
    await expect(passingWhen(sql, statement, inputs)).rejects.toThrow(/division by zero/);
    expect((await sql`select 1 as x`).length).toBe(1);
    expect([...(await passingWhen(sql, statement, inputs.filter((input) => input.newRow.divisor !== 0)))].sort()).toEqual([0, 1, 2]);
  } finally {
    await sql.end({ timeout: 5 });
  }
});
