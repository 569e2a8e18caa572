/**
 * Passing today, kept so: one orchestrator's LISTEN connection stops reading its socket (the proxy
 * pauses it: real TCP backpressure, so its backend blocks once the buffers fill and falls behind in
 * the notification queue). A flood of notifications piles up behind it. invoke never fails, a healthy
 * orchestrator runs everything exactly once, and the stalled one notices through its ping and
 * replaces the connection.
 */
import postgres from "postgres";
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask, type Logger } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { WORK_CHANNEL } from "../../../src/model/channels";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { countOutcomes, expectExactlyOnce, invokeMany } from "../../support/faults/outcomes";
import { startTcpProxyTo, type TcpProxy } from "../../support/faults/tcp-proxy";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "echo", payload: z.object({ i: z.number() }) })]);
const db = useTestDatabase();
const track = trackOrchestrators();
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxyTo(db.url);
});
afterAll(async () => proxy?.close());

const isListener = (connection: { clientText: string }) => connection.clientText.includes('listen "pgconductor_work"');

test("a LISTEN connection that stops reading under a flood: invoke never fails, every execution runs once, the listener is replaced", async () => {
  const proxied = postgres(proxy.urlFor(db.url), { max: 4, onnotice: () => {}, backoff: () => 0.05 });
  const outcomes = countOutcomes(db.url);
  const warnings: string[] = [];
  const recording: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
  const orchestrators: Orchestrator[] = [];
  try {
    const make = (sql: postgres.Sql, logger: Logger) => {
      const conductor = Conductor.create({ sql, tasks, logger });
      const echo = conductor.createTask({ name: "echo" }, { invocable: true }, async (_event, ctx) => {
        outcomes.started(ctx.executionId);
        return null;
      });
      const orchestrator = track(
        Orchestrator.create({ conductor, tasks: [echo], defaultWorker: { pollIntervalMs: hour }, listenerPingIntervalMs: 300, listenerPingTimeoutMs: 500, handleSignals: false }),
      );
      orchestrators.push(orchestrator);
      return orchestrator;
    };
    const stalled = make(proxied, recording);
    await stalled.start();
    await eventually(() => proxy.connections.some(isListener), { what: "the proxied LISTEN connection" });
    expect(proxy.stall(isListener)).toBe(1);

    // 20,000 notifications of 1 kB (about 20 MB): far more than the socket buffers hold.
    const filler = "x".repeat(1_000);
    for (let round = 0; round < 20; round++) {
      await db.sql`select pg_notify(${WORK_CHANNEL}, ${`flood-${filler}`}) from generate_series(1, 1000)`;
    }
    const healthy = make(db.pool(6), silentLogger);
    await healthy.start();
    const invoker = Conductor.create({ sql: db.sql, tasks, logger: silentLogger });
    outcomes.track(await invokeMany(invoker, { name: "echo" }, 1_000, (i) => ({ i }), 100));
    expectExactlyOnce(await outcomes.waitForAll({ timeoutMs: 30_000 }));

    await eventually(() => proxy.connections.some((c) => isListener(c) && !c.stalled), { what: "the stalled orchestrator to open a new LISTEN connection" });
    expect(warnings.filter((w) => w.startsWith("the LISTEN connection did not deliver its own ping"))).toHaveLength(1);
  } finally {
    for (const orchestrator of orchestrators) await orchestrator.stop();
    proxy.resume();
    await outcomes.close();
    await proxied.end({ timeout: 1 }).catch(() => {});
  }
});
