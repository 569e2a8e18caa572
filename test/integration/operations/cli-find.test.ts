import { spawn } from "node:child_process";
import { join } from "node:path";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { hour, statusOf, trackOrchestrators } from "../../support/helpers";

const BIN = join(__dirname, "..", "..", "..", "bin", "pgconductor.js");
const db = useTestDatabase();
const track = trackOrchestrators();

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: "1" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "flaky", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "steady", payload: z.object({}) }),
]);

function setup() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  let failing = true;
  const flaky = conductor.createTask({ name: "flaky", maxAttempts: 1 }, { invocable: true }, async (event, ctx) => {
    await ctx.step("fetch", async () => ({ fetched: event.payload.n }));
    if (failing) throw new Error(`boom ${event.payload.n}`);
    return { ok: event.payload.n };
  });
  const steady = conductor.createTask({ name: "steady" }, { invocable: true }, async () => "fine");
  const orchestrator = () => track(Orchestrator.create({ conductor, tasks: [flaky, steady], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  return { conductor, orchestrator, heal: () => (failing = false) };
}

test("`list --status failed --ids` prints the ids that `retry` takes; show tells steps, error and timeline", async () => {
  const { conductor, orchestrator, heal } = setup();
  const failed = await conductor.invoke({ name: "flaky" }, [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
  const fine = await conductor.invoke({ name: "steady" }, {});
  await orchestrator().drain();

  const listed = await cli(["list", "--status", "failed", "--ids"]);
  expect(listed.code).toBe(0);
  const ids = listed.stdout.trim().split("\n");
  expect(ids.sort()).toEqual([...failed].sort());

  const table = await cli(["list", "--task", "steady"]);
  expect(table.stdout).toMatch(new RegExp(`^id\\s+task\\s+queue\\s+status\\s+attempts\\s+created\\s+error\\n${fine}\\s+steady\\s+default\\s+completed\\s+1/3\\s+\\S+Z$`, "m"));
  const json = JSON.parse((await cli(["list", "--status", "failed", "--json"])).stdout);
  expect(json.map((row: { lastError: string }) => row.lastError).sort()).toEqual(["boom 1", "boom 2"]);

  const shown = await cli(["show", failed[0]]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain("status     failed");
  expect(shown.stdout).toContain("error      boom 1");
  expect(shown.stdout).toMatch(/steps\n\s+step\s+fetch\s+\{"fetched":1\}/);
  expect(shown.stdout).toMatch(/timeline\n.*created\s+created by pgconductor\.invoke\n.*started .*\n.*step\s+step fetch completed\n.*failed\s+failed after 1 attempt\(s\): boom 1\n$/);

  heal();
  const retried = await cli(["retry", ...ids]);
  expect(retried.code).toBe(0);
  expect(retried.stdout.trim().split("\n").sort()).toEqual(ids.map((id) => `${id} will run again`).sort());
  await orchestrator().drain();
  for (const id of failed) expect(await statusOf(db.sql, id)).toBe("completed");
  expect((await cli(["list", "--status", "failed", "--ids"])).stdout).toBe("");
});

test("bulk retry and cancel by filter; bad filters are usage errors that change nothing", async () => {
  await db.sql`delete from pgconductor.executions`;
  const { conductor, orchestrator } = setup();
  const failed = await conductor.invoke({ name: "flaky" }, [{ payload: { n: 3 } }]);
  await orchestrator().drain();
  const later = await conductor.invoke({ name: "steady" }, [{ payload: {}, run_at: new Date(Date.now() + hour) }, { payload: {}, run_at: new Date(Date.now() + hour) }]);

  const badStatus = await cli(["list", "--status", "broken"]);
  expect(badStatus.code).toBe(2);
  expect(badStatus.stderr).toContain('unknown status "broken" (statuses: pending, running, completed, failed, cancelled)');
  const onlyStatus = await cli(["cancel", "--status", "pending"]);
  expect(onlyStatus.code).toBe(2);
  expect(onlyStatus.stderr).toContain("the filter must name a task, queue, time range, search or ids, not only a status");
  expect((await cli(["retry"])).code).toBe(2);
  expect(await statusOf(db.sql, later[0])).toBe("pending");

  const cancelled = await cli(["cancel", "--task", "steady", "--reason", "bulk"]);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout.trim().split("\n").sort()).toEqual(later.map((id) => `${id} cancelled`).sort());
  for (const id of later) expect(await statusOf(db.sql, id)).toBe("cancelled");

  const retried = await cli(["retry", "--task", "flaky", "--since", "1h"]);
  expect(retried).toMatchObject({ code: 0, stdout: `${failed[0]} will run again\n` });
  expect(await statusOf(db.sql, failed[0])).toBe("pending");
});
