/**
 * postgres.js counts result rows per connection and resets the count only when a statement
 * completes: a statement that fails after sending some rows leaves holes at the start of the next
 * result on that connection. A `when` that fails on a later row must not do that, and a claim read
 * after such a failure (any statement's, the app's too) must not hand the worker an empty slot.
 */
import postgres from "postgres";
import { whenStatement, passingWhen } from "../../src/db/table-trigger-when";
import { claimExecutions } from "../../src/db/claim";
import { Conductor, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();

test("a when that fails on a later row leaves the connection's next result whole", async () => {
  await db.sql`create table readings (id int primary key, divisor int not null)`;
  const one = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const trigger = { schema: "public", table: "readings", when: "100 / NEW.divisor > 1" };
    const statement = whenStatement([trigger]);
    const inputs = [{ id: 1, divisor: 10 }, { id: 2, divisor: 0 }].map((row) => ({ trigger, newRow: row, oldRow: null }));
    await expect(passingWhen(one, statement, inputs)).rejects.toMatchObject({ code: "22012" });
    const rows = await one`select 1 as x`;
    expect([...rows]).toEqual([{ x: 1 }]);
  } finally {
    await one.end({ timeout: 5 });
  }
});

test("a claim after a statement that failed part-way on the same connection returns only rows", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([defineTask({ name: "x" })]), context: {}, logger: silentLogger });
  const id = await conductor.invoke({ name: "x" }, {});
  const one = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await expect(one`select 1 / (2 - g) as v from generate_series(1, 3) as g`).rejects.toMatchObject({ code: "22012" });
    const claimed = await claimExecutions(one, "00000000-0000-0000-0000-000000000001", "default", ["x"], 10);
    expect(claimed.map((row) => row?.id)).toEqual([id]);
  } finally {
    await one.end({ timeout: 5 });
  }
});
