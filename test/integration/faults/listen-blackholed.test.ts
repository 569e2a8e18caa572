/**
 * Issue 11, item 3: a half-open LISTEN connection (the proxy stops forwarding it, nothing is
 * closed). Nothing tells the client; only the listener's ping to itself notices. With the sweep an
 * hour away, work invoked during and after the blackhole completes only if push comes back; the
 * outage is logged once.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask, type Logger } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce } from "../../support/faults/outcomes";
import { startTcpProxyTo, type TcpProxy } from "../../support/faults/tcp-proxy";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "echo", payload: z.object({ i: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxyTo(db.url);
});
afterAll(async () => proxy?.close());

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

const isListener = (connection: { clientText: string }) => connection.clientText.includes('listen "pgconductor_work"');

test("a blackholed LISTEN connection is noticed by its ping and replaced: work completes by push, the outage is logged once", async () => {
  const proxied = postgres(proxy.urlFor(db.url), { max: 4, onnotice: () => {}, backoff: () => 0.05 });
  const outcomes = countOutcomes(db.url);
  const { logger, lines } = recordingLogger();
  let orchestrator: Orchestrator | null = null;
  try {
    const conductor = Conductor.create({ sql: proxied, tasks, logger });
    const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (_event, ctx) => {
      outcomes.started(ctx.executionId);
      return null;
    });
    orchestrator = track(
      Orchestrator.create({
        conductor,
        tasks: [echo],
        defaultWorker: { pollIntervalMs: hour },
        listenerPingIntervalMs: 200,
        listenerPingTimeoutMs: 300,
        handleSignals: false,
      }),
    );
    await orchestrator.start();
    const invoker = Conductor.create({ sql: db.sql, tasks, logger });
    const runOne = async (i: number) => {
      outcomes.track([await invoker.invoke({ name: "echo" }, { i })]);
      await outcomes.waitForAll({ timeoutMs: 20_000 });
    };
    await eventually(() => proxy.connections.some(isListener), { what: "the LISTEN connection" });
    await runOne(0);

    expect(proxy.blackhole(isListener)).toBe(1);
    await runOne(1); // invoked while the listener is deaf: done once it listens again and catches up
    // Push is back: a new LISTEN connection is open (the old one still hangs, blackholed).
    expect(proxy.connections.filter((c) => isListener(c) && !c.blackholed)).toHaveLength(1);
    for (let i = 2; i < 5; i++) await runOne(i);

    const report = await outcomes.report();
    expectExactlyOnce(report);
    const warnings = lines.filter((line) => line.level === "warn" && line.message.includes("LISTEN"));
    expect(warnings.map((line) => line.message)).toEqual([
      "the LISTEN connection did not deliver its own ping within 300 ms (a half-open connection, or a pooler that drops LISTEN); reconnecting (push resumes once it listens again)",
    ]);
    expect(lines.filter((line) => line.level === "info" && line.message.startsWith("LISTEN connection is back"))).toHaveLength(1);
  } finally {
    await orchestrator?.stop();
    proxy.resume();
    await outcomes.close();
    await proxied.end({ timeout: 1 }).catch(() => {});
  }
});
