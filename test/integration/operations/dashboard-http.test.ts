import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { createDashboard, type Dashboard, type DashboardOptions } from "../../../src/cli/dashboard/handler";
import { useTestDatabase } from "../../support/database";
import { hour, statusOf, trackOrchestrators } from "../../support/helpers";
import { parsePrometheusText } from "../../support/prometheus-parser";

const db = useTestDatabase();
const track = trackOrchestrators();
const open: { server: Server; dashboard: Dashboard }[] = [];
afterEach(async () => {
  for (const { server, dashboard } of open.splice(0)) {
    await dashboard.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const tasks = TaskSchemas.fromSchema([defineTask({ name: "breaks", payload: z.object({}) })]);

async function serve(options: Omit<DashboardOptions, "sql">) {
  const dashboard = createDashboard({ sql: db.sql, ...options });
  const server = createServer((req, res) => dashboard.handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push({ server, dashboard });
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}` };
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function call(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = request({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: { ...(body ? { "content-type": "application/json" } : {}), ...init.headers } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const csrfOf = (html: string) => /name="csrf-token" content="([^"]+)"/.exec(html)![1];

async function failedExecution() {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const task = conductor.createTask({ name: "breaks", maxAttempts: 1 }, { invocable: true }, async () => {
    throw new Error("broken on purpose");
  });
  const id = await conductor.invoke({ name: "breaks" }, {});
  await track(Orchestrator.create({ conductor, tasks: [task], defaultWorker: { pollIntervalMs: hour }, handleSignals: false })).drain();
  return { conductor, id };
}

test("read-only by default; with actions a POST needs the page's CSRF token and the same origin", async () => {
  const { id } = await failedExecution();
  const readOnly = await serve({});
  const page = await call(readOnly.port, "/");
  expect(page.status).toBe(200);
  expect(page.body).toContain('<meta name="actions" content="false">');
  const list = JSON.parse((await call(readOnly.port, "/api/executions?status=failed")).body);
  expect(list.executions.map((e: { id: string }) => e.id)).toEqual([id]);
  const detail = JSON.parse((await call(readOnly.port, `/api/executions/${id}`)).body);
  expect(detail).toMatchObject({ id, status: "failed", lastError: "broken on purpose" });
  expect((await call(readOnly.port, `/api/executions/${id}/retry`, { method: "POST", headers: { "x-csrf-token": csrfOf(page.body) }, body: {} })).status).toBe(403);
  expect(JSON.parse((await call(readOnly.port, "/api/executions?status=nope")).body).error).toContain('unknown status "nope"');
  expect((await call(readOnly.port, "/api/executions/not-an-id")).status).toBe(400);
  expect((await call(readOnly.port, "/nothing-here")).status).toBe(404);
  expect((await call(readOnly.port, "/", { headers: { host: "evil.example" } })).status).toBe(403);

  const acting = await serve({ actions: true });
  const csrf = csrfOf((await call(acting.port, "/")).body);
  expect((await call(acting.port, `/api/executions/${id}/retry`, { method: "POST", body: {} })).status).toBe(403);
  expect((await call(acting.port, `/api/executions/${id}/retry`, { method: "POST", headers: { "x-csrf-token": csrf, origin: "http://evil.example" }, body: {} })).status).toBe(403);
  expect(await statusOf(db.sql, id)).toBe("failed");
  const retried = await call(acting.port, `/api/executions/${id}/retry`, { method: "POST", headers: { "x-csrf-token": csrf, origin: acting.url }, body: {} });
  expect(JSON.parse(retried.body)).toEqual({ done: [id], skipped: [] });
  expect(await statusOf(db.sql, id)).toBe("pending");
  const bulk = await call(acting.port, "/api/cancel", { method: "POST", headers: { "x-csrf-token": csrf }, body: { filter: { task: "breaks" }, reason: "enough" } });
  expect(JSON.parse(bulk.body)).toEqual({ done: [id], skipped: [] });
  expect(await statusOf(db.sql, id)).toBe("cancelled");
});

test("a token protects every page; ?token= once sets the cookie", async () => {
  const token = "a-long-enough-token-42";
  const { port } = await serve({ auth: { token } });
  expect((await call(port, "/")).status).toBe(401);
  expect((await call(port, "/metrics")).status).toBe(401);
  expect((await call(port, "/api/overview", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  const first = await call(port, `/?token=${token}`);
  expect(first.status).toBe(200);
  const cookie = String(first.headers["set-cookie"]).split(";")[0];
  expect((await call(port, "/api/overview", { headers: { cookie } })).status).toBe(200);
});

test("/metrics is Prometheus text with per-queue gauges", async () => {
  await failedExecution();
  const { port } = await serve({});
  const reply = await call(port, "/metrics");
  expect(reply.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
  const families = parsePrometheusText(reply.body);
  const executions = families.get("pgconductor_executions")!;
  expect(executions.type).toBe("gauge");
  expect(executions.samples.find((s) => s.labels.queue === "default" && s.labels.state === "failed")?.value).toBeGreaterThanOrEqual(1);
  expect(families.get("pgconductor_executions_finished_last_hour")!.samples.some((s) => s.labels.status === "failed" && s.value >= 1)).toBe(true);
  expect(families.has("pgconductor_queue_oldest_due_seconds")).toBe(true);
  expect(families.get("pgconductor_orchestrators")!.samples[0].value).toBe(0);
});

test("live events arrive over server-sent events once the listener is ready", async () => {
  const { port } = await serve({});
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const received: string[] = [];
  let onData: () => void = () => {};
  const req = request({ host: "127.0.0.1", port, path: "/api/events" }, (res) => {
    expect(res.headers["content-type"]).toContain("text/event-stream");
    res.on("data", (chunk: Buffer) => {
      received.push(chunk.toString());
      onData();
    });
  });
  req.end();
  const until = (check: () => boolean) => new Promise<void>((resolve) => {
    onData = () => check() && resolve();
    onData();
  });
  await until(() => received.join("").includes("event: ready"));
  const id = await conductor.invoke({ name: "breaks" }, {}, { run_at: new Date(Date.now() + hour) });
  await until(() => received.join("").includes(id));
  const message = received.join("").split("\n\n").find((part) => part.includes(id))!;
  expect(JSON.parse(message.replace(/^data: /, "")).events).toEqual([expect.objectContaining({ kind: "created", id, task: "breaks", queue: "default" })]);
  req.destroy();
});

test("mounted under a base path in a plain node:http server", async () => {
  const { port } = await serve({ basePath: "/ops" });
  const bare = await call(port, "/ops?x=1");
  expect(bare.status).toBe(302);
  expect(bare.headers.location).toBe("/ops/?x=1");
  expect((await call(port, "/ops/")).body).toContain('<script src="app.js"></script>');
  expect((await call(port, "/ops/api/overview")).status).toBe(200);
  expect((await call(port, "/api/overview")).status).toBe(404);
});

test("the overview lists paused queues and tasks, and the live stream announces a pause at once", async () => {
  const { port } = await serve({});
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  let text = "";
  let onText = () => {};
  const stream = request({ host: "127.0.0.1", port, path: "/api/events" }, (res) => {
    res.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      onText();
    });
  });
  stream.end();
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      onText = () => pattern.test(text) && resolve();
      onText();
    });
  try {
    await until(/event: ready/); // listening: what follows arrives live
    await conductor.pause({ queue: "reports" });
    await until(/event: pause\ndata: \{"kind":"paused","queue":"reports","task":null,"at":\d+\}/);
    const overview = JSON.parse((await call(port, "/api/overview")).body);
    expect(overview.pauses).toEqual([{ kind: "queue", name: "reports", pausedAt: expect.any(String) }]);
  } finally {
    stream.destroy();
    await conductor.resume({ queue: "reports" });
  }
});
