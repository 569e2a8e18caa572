import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { runDemo } from "../../../examples/demo";
import { useTestDatabase } from "../../support/database";
import { eventually } from "../../support/helpers";

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

/** `npm run demo` as a user runs it: `tsx examples/demo.ts` in a child process. */
function runDemoProcess(databaseUrl: string) {
  const root = join(__dirname, "..", "..", "..");
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "examples", "demo.ts")], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => child.once("close", (code) => resolve({ code, output })));
}

test("with a broken table trigger the demo prints the consumer's error and exits non-zero", async () => {
  // A slot of our name made with another output plugin: the consumer's stream fails at every attempt.
  const [{ slot }] = await db.sql<{ slot: string }[]>`select 'pgconductor_' || oid as slot from pg_database where datname = current_database()`;
  await eventually(async () => {
    await db.sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
    return (await db.sql`select 1 from pg_replication_slots where slot_name = ${slot}`).length === 0;
  }, { what: "the previous test's slot released" });
  await db.sql`select pg_create_logical_replication_slot(${slot}, 'test_decoding')`;
  try {
    const { code, output } = await runDemoProcess(db.url);
    expect(code).toBe(1);
    expect(output).toMatch(/demo failed: the orchestrator reported an error: table changes: the replication slot "pgconductor_\d+" was created with the output plugin test_decoding, not pgoutput\. Fix: drop it/);
    expect(output).not.toContain("summary:");
  } finally {
    await db.sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot}`;
  }
}, 60_000);

test("a database it cannot reach: the demo says which (password elided) and exits non-zero", async () => {
  const server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  await new Promise((resolve) => server.close(resolve));
  const { code, output } = await runDemoProcess(`postgres://postgres:s3cret@127.0.0.1:${port}/postgres`);
  expect(code).toBe(1);
  expect(output).toContain(`demo failed: cannot connect to postgres://postgres:***@127.0.0.1:${port}/postgres: connection refused`);
  expect(output).not.toContain("s3cret");
}, 60_000);
