/**
 * Per-key concurrency across two orchestrators (each with its own pool, as two machines would be):
 * never more than keyConcurrency running per key, sampled from the table while they run; and a busy
 * key does not hold up a key that has one execution waiting.
 */
import { z } from "zod";
import { Conductor, ConfigurationError, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "tenant-sync", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "fair-sync", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "plain", payload: z.object({ n: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();
beforeAll(async () => {
  await db.sql`create table runs (execution_id uuid, task text, key text, started_at timestamptz, ended_at timestamptz)`;
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function orchestratorOn(pool: ReturnType<typeof db.pool>, register: (conductor: Conductor<any, any, any>) => void, concurrency: number) {
  const conductor = Conductor.create({ sql: pool, tasks, context: {}, logger: silentLogger });
  register(conductor);
  return track(Orchestrator.create({ conductor, defaultWorker: { concurrency, pollIntervalMs: hour }, handleSignals: false }));
}

const recordingHandler = (task: string, ms: number) => async (event: { payload: { n: number } }, ctx: { executionId: string }) => {
  const [{ key }] = await db.sql`select concurrency_key as key from pgconductor.executions where id = ${ctx.executionId}`;
  await db.sql`insert into runs values (${ctx.executionId}, ${task}, ${key}, clock_timestamp(), null)`;
  await pause(ms);
  await db.sql`update runs set ended_at = clock_timestamp() where execution_id = ${ctx.executionId}`;
};

async function completed(ids: string[]): Promise<number> {
  const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${ids}) and status = 'completed'`;
  return row.n;
}

/** Most executions of one key running at any one moment, from the recorded start/end times. */
async function maxOverlapPerKey(task: string): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`
    select coalesce(max(n), 0)::int as n from (
      select (select count(*) from runs b where b.task = a.task and b.key = a.key
                and b.started_at <= a.started_at and b.ended_at > a.started_at) as n
      from runs a where a.task = ${task}) x`;
  return row.n;
}

test("keyConcurrency 2 holds per key across two orchestrators, sampled while they run", async () => {
  const register = (conductor: Conductor<any, any, any>) =>
    conductor.createTask({ name: "tenant-sync", keyConcurrency: 2 }, { invocable: true }, recordingHandler("tenant-sync", 30));
  const orchestrators = [orchestratorOn(db.pool(), register, 8), orchestratorOn(db.pool(), register, 8)];
  await Promise.all(orchestrators.map((o) => o.start()));
  const invoker = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const items = Array.from({ length: 48 }, (_, n) => ({ payload: { n }, concurrency_key: `tenant-${n % 3}` }));
  const ids = await invoker.invoke({ name: "tenant-sync" }, items);

  let sampledMax = 0;
  let sampledAny = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rows = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pgconductor.executions
        where task_key = 'tenant-sync' and status = 'running' group by concurrency_key`;
      for (const row of rows) sampledMax = Math.max(sampledMax, row.n);
      sampledAny += rows.length;
    }
  })();
  await eventually(async () => (await completed(ids)) === 48, { what: "all 48 keyed executions to complete", timeoutMs: 30_000 });
  sampling = false;
  await sampler;

  expect(sampledAny).toBeGreaterThan(0); // the sampler saw work running
  expect(sampledMax).toBeLessThanOrEqual(2);
  expect(await maxOverlapPerKey("tenant-sync")).toBeLessThanOrEqual(2);
  // The limit is per key, not per task: several keys ran at once (6 = 3 keys × 2 at the peak).
  const [peak] = await db.sql<{ n: number }[]>`
    select max((select count(*) from runs b where b.task = a.task and b.started_at <= a.started_at and b.ended_at > a.started_at))::int as n
    from runs a where a.task = 'tenant-sync'`;
  expect(peak.n).toBeGreaterThan(2);
});

test("a hot key does not delay a cold one beyond one execution's time", async () => {
  // Two slots in all (concurrency 2 across both orchestrators), a hot key with a backlog of 20 and
  // a cold key invoked once both slots are busy: the cold one takes the first slot that frees.
  const register = (conductor: Conductor<any, any, any>) =>
    conductor.createTask({ name: "fair-sync", concurrency: 2, keyConcurrency: 2 }, { invocable: true }, recordingHandler("fair-sync", 60));
  const orchestrators = [orchestratorOn(db.pool(), register, 2), orchestratorOn(db.pool(), register, 2)];
  await Promise.all(orchestrators.map((o) => o.start()));
  const invoker = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const hot = await invoker.invoke({ name: "fair-sync" }, Array.from({ length: 20 }, (_, n) => ({ payload: { n }, concurrency_key: "hot" })));
  await eventually(async () => {
    const [row] = await db.sql`select count(*)::int as n from runs where task = 'fair-sync'`;
    return row.n >= 2;
  }, { what: "both slots to be taken by the hot key" });
  const [{ invoked_at }] = await db.sql`select clock_timestamp() as invoked_at`;
  const cold = await invoker.invoke({ name: "fair-sync" }, { n: 100 }, { concurrency_key: "cold" });
  await eventually(async () => (await completed([...hot, cold])) === 21, { what: "hot and cold executions to complete", timeoutMs: 30_000 });

  const [{ hot_before_cold }] = await db.sql`
    select count(*)::int as hot_before_cold from runs h
    where h.task = 'fair-sync' and h.key = 'hot' and h.started_at > ${invoked_at}
      and h.started_at < (select started_at from runs where execution_id = ${cold})`;
  // Oldest-first over the task would start all 18 waiting hot executions first.
  expect(hot_before_cold).toBeLessThanOrEqual(1);
  expect(await maxOverlapPerKey("fair-sync")).toBeLessThanOrEqual(2);
});

test("a key without a keyed limit, and a bad limit, are ConfigurationErrors that write nothing", async () => {
  const conductor = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  conductor.createTask({ name: "plain" }, { invocable: true }, async () => {});
  const [before] = await db.sql`select count(*)::int as n from pgconductor.executions`;
  await expect(conductor.invoke({ name: "plain" }, { n: 1 }, { concurrency_key: "t-1" })).rejects.toThrow(/Task "plain": concurrency_key needs a keyed limit/);
  await expect(conductor.invoke({ name: "plain" }, [{ payload: { n: 1 } }, { payload: { n: 2 }, concurrency_key: "t-1" }])).rejects.toThrow(ConfigurationError);
  expect(() => conductor.createTask({ name: "tenant-sync", keyConcurrency: -1 }, { invocable: true }, async () => {})).toThrow(
    /createTask "tenant-sync": keyConcurrency must be a positive integer/,
  );
  const [after] = await db.sql`select count(*)::int as n from pgconductor.executions`;
  expect(after.n).toBe(before.n);
});
