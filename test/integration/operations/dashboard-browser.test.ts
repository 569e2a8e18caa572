/**
 * End to end in a real browser: `pgconductor dashboard --actions` on a database an orchestrator
 * works on; headless Chromium opens the page, sees an execution appear live, opens a failed one,
 * presses Retry and sees it run. PGCONDUCTOR_SCREENSHOT=<dir> also saves the README's screenshots.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { useTestDatabase } from "../../support/database";
import { deferred, hour, trackOrchestrators } from "../../support/helpers";
import { ensureChromium, launchChromium, type HeadlessChromium } from "../../support/chromium";

const BIN = join(__dirname, "..", "..", "..", "bin", "pgconductor.js");
const db = useTestDatabase();
const track = trackOrchestrators();
let server: ChildProcess | null = null;
let chromium: HeadlessChromium | null = null;

beforeAll(() => ensureChromium(), 600_000);
afterAll(async () => {
  await chromium?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGINT");
    await exited;
  }
});

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "resize-image", payload: z.object({ file: z.string() }) }),
  defineTask({ name: "charge-card", payload: z.object({ cents: z.number() }) }),
  defineTask({ name: "nightly-report" }),
]);

/** For the README's picture only: an hour of finished executions behind the chart. */
async function seedHistory() {
  await db.sql`
    insert into pgconductor.executions (task_key, queue, payload, status, attempts, created_at, started_at, finished_at, last_error)
    select t.task, t.queue, '{}', s.status, 1, now() - make_interval(secs => m * 60 + 2), now() - make_interval(secs => m * 60 + 1),
      now() - make_interval(secs => m * 60), case when s.status = 'failed' then 'card declined' end
    from generate_series(1, 59) as m,
      (values ('resize-image', 'media'), ('charge-card', 'default')) as t(task, queue),
      lateral generate_series(1, 3 + ((m * 7 + length(t.queue)) % 11)) as n,
      lateral (select case when t.queue = 'default' and n = 1 and m % 9 = 0 then 'failed' else 'completed' end as status) s`;
}

async function startDashboard(): Promise<string> {
  server = spawn(process.execPath, [BIN, "dashboard", "--port", "0", "--actions"], { env: { ...process.env, DATABASE_URL: db.url, NO_COLOR: "1" } });
  const url = deferred<string>();
  let output = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    const match = /dashboard at (http:\S+)/.exec(output);
    if (match) url.resolve(match[1]);
  });
  server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  server.once("exit", (code) => url.reject(new Error(`dashboard exited with ${code}: ${output}`)));
  return url.promise;
}

test("a new execution appears live; a failed one is retried from its page and runs", async () => {
  await db.sql`select 1`;
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  await conductor.ensureInstalled();
  let cardDeclined = true;
  const resize = conductor.createTask({ name: "resize-image", queue: "media" }, { invocable: true }, async (event, ctx) => {
    const size = await ctx.step("measure", () => ({ width: 1280, file: event.payload.file }));
    return { width: size.width / 2 };
  });
  const charge = conductor.createTask({ name: "charge-card", maxAttempts: 1 }, { invocable: true }, async (event, ctx) => {
    await ctx.step("authorize", () => ({ authorized: event.payload.cents }));
    if (cardDeclined) throw new Error("card declined");
    return { charged: event.payload.cents };
  });
  const report = conductor.createTask({ name: "nightly-report" }, { cron: "0 2 * * *", name: "nightly" }, async () => "sent");
  if (process.env.PGCONDUCTOR_SCREENSHOT) await seedHistory();
  const orchestrator = track(Orchestrator.create({ conductor, tasks: [resize, charge, report], defaultWorker: { pollIntervalMs: hour }, handleSignals: false }));
  await orchestrator.start();
  await conductor.invoke({ name: "resize-image", queue: "media" }, Array.from({ length: 12 }, (_, i) => ({ payload: { file: `photo-${i}.jpg` } })));

  const url = await startDashboard();
  chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(url);
  await page.locator("#live.on").waitFor();

  // Live: an execution invoked now shows up in the page's event feed without a reload.
  const [fresh] = await conductor.invoke({ name: "resize-image", queue: "media" }, [{ payload: { file: "live.jpg" } }]);
  await page.locator(`a[href="#/execution/${fresh}"]`).first().waitFor();

  const declined = await conductor.invoke({ name: "charge-card" }, { cents: 1999 });
  await page.goto(`${url}#/executions?status=failed`);
  await page.locator(`tr[data-id="${declined}"][data-status="failed"]`).waitFor();
  if (process.env.PGCONDUCTOR_SCREENSHOT) {
    await page.goto(`${url}#/`);
    await page.locator("svg.chart rect").first().waitFor();
    await page.screenshot({ path: join(process.env.PGCONDUCTOR_SCREENSHOT, "dashboard-queues.png"), fullPage: true });
  }
  await page.goto(`${url}#/executions?status=failed`);
  await page.locator(`tr[data-id="${declined}"] a`).click();
  await page.locator("#fact-status .status-failed").waitFor();
  await page.locator("#error", { hasText: "card declined" }).waitFor();

  cardDeclined = false;
  await page.locator("#retry").click();
  // The page follows the execution live: pending, running, then completed.
  await page.locator("#fact-status .status-completed").waitFor();
  await page.locator("pre", { hasText: '"charged": 1999' }).waitFor();
  if (process.env.PGCONDUCTOR_SCREENSHOT) {
    await page.screenshot({ path: join(process.env.PGCONDUCTOR_SCREENSHOT, "dashboard-execution.png"), fullPage: true });
  }
  expect((await db.sql`select status, attempts from pgconductor.executions where id = ${declined}`)[0]).toEqual({ status: "completed", attempts: 1 });
  expect(errors).toEqual([]);
}, 120_000);
