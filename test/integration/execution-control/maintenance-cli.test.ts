import { main } from "../../../src/cli";
import { migrate } from "../../../src/db/migrator";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {}, color: false, interrupted: new Promise<void>(() => {}) } };
}

test("pgconductor maintenance runs retention on demand and reports what it removed", async () => {
  const before = io();
  expect(await main(["maintenance", "--db-url", db.url], before.io)).toBe(1);
  expect(before.err.join("\n")).toMatch(/not installed/);

  await migrate(db.sql);
  await db.sql`insert into pgconductor.executions (task_key, status, finished_at) values
    ('old', 'completed', now() - interval '8 days'), ('recent', 'completed', now() - interval '1 day')`;
  const run = io();
  expect(await main(["maintenance", "--db-url", db.url], run.io)).toBe(0);
  expect(run.out.join("\n")).toMatch(/^removed 1 completed and 0 failed\/cancelled executions/);
  expect((await db.sql`select task_key from pgconductor.executions`).map((r) => r.task_key)).toEqual(["recent"]);
});
