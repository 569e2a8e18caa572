import { runDemo } from "../../../examples/demo";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();

test("the demo runs every workflow, retries the failing receipt once, and audits every inserted order", async () => {
  const lines: string[] = [];
  const summary = await runDemo({ databaseUrl: db.url, orders: 5, print: (line) => lines.push(line) });
  expect(summary).toMatchObject({ orders: 5, completed: 15, failed: 0, retried: 1 });
  const results = await db.sql<{ result: { chargeId: string; receipt: string; shop: string } }[]>`
    select result from pgconductor.executions where task_key = 'process-order' order by (payload->>'orderId')::int`;
  expect(results.map((r) => r.result)).toEqual(
    [1, 2, 3, 4, 5].map((id) => ({ chargeId: `ch_${id}`, receipt: `msg_${id}_${id === 3 ? 2 : 1}`, shop: "demo-shop" })),
  );
  const audits = await db.sql`select count(*)::int as n from pgconductor.executions where task_key = 'audit-order' and status = 'completed'`;
  expect(audits[0].n).toBe(5);
  expect(lines.some((line) => line.includes("retrying 1"))).toBe(true);
  expect(lines.at(-1)).toMatch(/^summary: 15 executions completed, 0 failed, 1 succeeded after a retry/);
});
