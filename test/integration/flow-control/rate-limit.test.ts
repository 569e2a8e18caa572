/**
 * Rate limits across two orchestrators: no window of periodSeconds holds more than `limit` starts
 * (a start is the claim: the execution's locked_at, read by the handler), and the work over the
 * limit still runs with the sweep an hour away: only the pushed next-allowed time can start it.
 */
import { z } from "zod";
import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
import { useTestDatabase } from "../../support/database";
import { eventually, hour, trackOrchestrators } from "../../support/helpers";
import { silentLogger } from "../../../src/model/logger";

const tasks = TaskSchemas.fromSchema([
  defineTask({ name: "call-api", payload: z.object({ n: z.number() }) }),
  defineTask({ name: "per-tenant", payload: z.object({ n: z.number() }) }),
]);

const db = useTestDatabase();
const track = trackOrchestrators();
beforeAll(async () => {
  await db.sql`create table starts (execution_id uuid, task text, key text, claimed_at timestamptz)`;
});

function orchestrators(register: (conductor: Conductor<any, any, any>) => void) {
  return [db.pool(), db.pool()].map((pool) => {
    const conductor = Conductor.create({ sql: pool, tasks, context: {}, logger: silentLogger });
    register(conductor);
    return track(Orchestrator.create({ conductor, defaultWorker: { concurrency: 5, pollIntervalMs: hour }, handleSignals: false }));
  });
}

const recordStart = (task: string) => async (_event: unknown, ctx: { executionId: string }) => {
  await db.sql`insert into starts select id, ${task}, concurrency_key, locked_at from pgconductor.executions where id = ${ctx.executionId}`;
};

/** The most starts of `task` (per key) inside any window [t, t + period) that begins at a start. */
async function mostStartsInAWindow(task: string, periodSeconds: number): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`
    select coalesce(max((select count(*) from starts b
      where b.task = a.task and b.key is not distinct from a.key
        and b.claimed_at >= a.claimed_at and b.claimed_at < a.claimed_at + make_interval(secs => ${periodSeconds}))), 0)::int as n
    from starts a where a.task = ${task}`;
  return row.n;
}

async function completed(ids: string[]): Promise<number> {
  const [row] = await db.sql`select count(*)::int as n from pgconductor.executions where id = any(${ids}) and status = 'completed'`;
  return row.n;
}

test("at most 3 starts per 1 s window across two orchestrators; the rest run when the window allows", async () => {
  const all = orchestrators((conductor) =>
    conductor.createTask({ name: "call-api", rateLimit: { limit: 3, periodSeconds: 1 } }, { invocable: true }, recordStart("call-api")),
  );
  await Promise.all(all.map((o) => o.start()));
  const invoker = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const ids = await invoker.invoke({ name: "call-api" }, Array.from({ length: 10 }, (_, n) => ({ payload: { n } })));
  await eventually(async () => (await completed(ids)) === 10, { what: "all 10 rate-limited executions", timeoutMs: 20_000 });
  expect(await mostStartsInAWindow("call-api", 1)).toBe(3); // used up to the limit, never beyond
  const [{ n }] = await db.sql`select count(*)::int as n from starts where task = 'call-api'`;
  expect(n).toBe(10); // none twice
});

test("perKey: each concurrency_key has its own bucket", async () => {
  const all = orchestrators((conductor) =>
    conductor.createTask({ name: "per-tenant", rateLimit: { limit: 2, periodSeconds: 1, perKey: true } }, { invocable: true }, recordStart("per-tenant")),
  );
  await Promise.all(all.map((o) => o.start()));
  const invoker = Conductor.create({ sql: db.sql, tasks, context: {}, logger: silentLogger });
  const ids = await invoker.invoke({ name: "per-tenant" }, Array.from({ length: 12 }, (_, n) => ({ payload: { n }, concurrency_key: `t${n % 2}` })));
  await eventually(async () => (await completed(ids)) === 12, { what: "all 12 per-key rate-limited executions", timeoutMs: 20_000 });
  expect(await mostStartsInAWindow("per-tenant", 1)).toBe(2);
  // Two buckets: the first window started four executions in all, two of each key.
  const [first] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from starts where task = 'per-tenant'
      and claimed_at < (select min(claimed_at) from starts where task = 'per-tenant') + interval '1 second'`;
  expect(first.n).toBe(4);
});
