/**
 * The inspection queries on a large table: every statement the dashboard and the CLI send is
 * EXPLAINed with its real parameters, and none may read pgconductor.executions sequentially.
 * 300k executions (95 % completed, like a busy queue with retention) are enough for the planner to
 * prefer a sequential scan and a sort wherever an index is missing.
 */
import postgres from "postgres";
import { Conductor, TaskSchemas } from "pgconductor-js";
import { silentLogger } from "../../../src/model/logger";
import { listExecutions, showExecution, retryExecutions } from "../../../src/api/inspect";
import { listOrchestrators, queueStats } from "../../../src/api/overview";
import { prometheusMetrics } from "../../../src/api/prometheus";
import { useTestDatabase } from "../../support/database";

const db = useTestDatabase();
const ROWS = 300_000;

interface PlanNode { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] }

function seqScans(node: PlanNode): string[] {
  const own = node["Node Type"] === "Seq Scan" && node["Relation Name"] === "executions" ? [node["Node Type"]] : [];
  return [...own, ...(node.Plans ?? []).flatMap(seqScans)];
}

beforeAll(async () => {
  await Conductor.create({ sql: db.sql, tasks: TaskSchemas.fromSchema([]), context: {}, logger: silentLogger }).ensureInstalled();
  await db.sql`insert into pgconductor.orchestrators (id, hostname, pid, schema_version) values (gen_random_uuid(), 'host', 1, 8)`;
  await db.sql.unsafe(`
    insert into pgconductor.executions (task_key, queue, payload, status, run_at, created_at, started_at, finished_at, attempts, dedupe_key, last_error, locked_by)
    select 'task-' || (i % 20), 'queue-' || (i % 5), '{}'::jsonb, s.status,
      now() - make_interval(secs => (${ROWS} - i) * 8), now() - make_interval(secs => (${ROWS} - i) * 8),
      case when s.status <> 'pending' then now() - make_interval(secs => (${ROWS} - i) * 8) end,
      case when s.status in ('completed', 'failed', 'cancelled') then now() - make_interval(secs => (${ROWS} - i) * 8 - 1) end,
      case when s.status = 'pending' then 0 else 1 end,
      case when i % 10 = 0 then 'key-' || i end,
      case when s.status = 'failed' then 'boom' end,
      case when s.status = 'running' then (select id from pgconductor.orchestrators limit 1) end
    from generate_series(1, ${ROWS}) as i,
      lateral (select case when i % 100 < 95 then 'completed' when i % 100 < 97 then 'failed'
                           when i % 100 < 98 then 'pending' when i % 100 < 99 then 'running' else 'cancelled' end as status) s`);
  await db.sql`insert into pgconductor.executions (task_key, queue, payload, status) values ('rare-task', 'rare-queue', '{}', 'failed')`;
  await db.sql.unsafe("vacuum analyze pgconductor.executions");
}, 240_000);

test("no inspection statement reads the executions table sequentially", async () => {
  const captured: { query: string; parameters: unknown[] }[] = [];
  const traced = postgres(db.url, { max: 1, onnotice: () => {}, debug: (_c, query, parameters) => captured.push({ query, parameters }) });
  try {
    const [some] = await db.sql<{ id: string; dedupe_key: string }[]>`select id, dedupe_key from pgconductor.executions where dedupe_key = 'key-1000'`;
    const hourAgo = new Date(Date.now() - 3_600_000);
    const calls: [string, () => Promise<unknown>][] = [
      ["list, no filter", () => listExecutions(traced)],
      ["list failed", () => listExecutions(traced, { status: "failed" })],
      ["list cancelled", () => listExecutions(traced, { status: "cancelled" })],
      ["list completed", () => listExecutions(traced, { status: "completed" })],
      ["list completed of a task", () => listExecutions(traced, { status: "completed", task: "task-3" })],
      ["list a rare task", () => listExecutions(traced, { task: "rare-task" })],
      ["list a rare queue", () => listExecutions(traced, { queue: "rare-queue" })],
      ["list the last hour", () => listExecutions(traced, { since: hourAgo })],
      ["next page", () => listExecutions(traced, { before: some.id, limit: 20 })],
      ["search by id", () => listExecutions(traced, { search: some.id })],
      ["search by dedupe key", () => listExecutions(traced, { search: some.dedupe_key })],
      ["show", () => showExecution(traced, some.id)],
      ["queue stats", () => queueStats(traced)],
      ["orchestrators", () => listOrchestrators(traced)],
      ["prometheus", () => prometheusMetrics(traced)],
      ["bulk retry of a rare task", () => retryExecutions(traced, { task: "rare-task" })],
    ];
    const offenders: string[] = [];
    for (const [what, call] of calls) {
      captured.length = 0;
      await call();
      expect(captured.length).toBeGreaterThan(0);
      for (const { query, parameters } of captured) {
        if (!/pgconductor\.executions/.test(query) || /^\s*select pgconductor\.|retry_each/.test(query)) continue;
        const [{ "QUERY PLAN": plan }] = await db.sql.unsafe(`explain (format json) ${query}`, parameters as never[]);
        if (seqScans(plan[0].Plan).length > 0) offenders.push(`${what}: ${query.replace(/\s+/g, " ").slice(0, 160)}`);
      }
    }
    expect(offenders).toEqual([]);
  } finally {
    await traced.end({ timeout: 5 });
  }
}, 120_000);
