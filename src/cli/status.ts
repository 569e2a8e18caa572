import type { Sql } from "postgres";
import { assertInstalled, NOT_INSTALLED, withDatabase, type Command } from "./command";
import { formatAge, formatBytes, renderTable } from "./table";
import { listPauses } from "../db/flow-control";

export const statusCommand: Command = {
  name: "status",
  summary: "Per queue: runnable, delayed, running and failed executions; orchestrators, their heartbeat age and health; replication slot lag.",
  usage: "",
  help: [
    "delayed: pending with a future run_at (scheduled, waiting for a retry, sleeping, or waiting for a child).",
    "health: what each orchestrator last found about itself (ok / degraded / down; push listening or degraded to a sweep;",
    "the table-change consumer's mode), stored when it changed; a stale heartbeat means it could not reach the database.",
  ].join("\n"),
  options: {},
  positionals: [0, 0],
  async run(args, io) {
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      io.out(await statusReport(sql));
      return 0;
    });
  },
};

export async function statusReport(sql: Sql): Promise<string> {
  const queues = await sql<{ queue: string; runnable: number; delayed: number; running: number; failed: number }[]>`
    select queue,
      count(*) filter (where status = 'pending' and run_at <= now())::int as runnable,
      count(*) filter (where status = 'pending' and run_at > now())::int as delayed,
      count(*) filter (where status = 'running')::int as running,
      count(*) filter (where status = 'failed')::int as failed
    from pgconductor.executions group by queue order by queue`;
  const orchestrators = await sql<{ id: string; hostname: string; pid: number; age: number; started: number; stop_requested: boolean; health: StoredHealth | null }[]>`
    select id, hostname, pid, extract(epoch from now() - last_heartbeat_at)::float8 as age,
      extract(epoch from now() - started_at)::float8 as started, stop_requested,
      -- to_jsonb: a schema from before the health column still shows the rest
      to_jsonb(o) -> 'health' as health
    from pgconductor.orchestrators o order by started_at`;
  const slots = await sql<{ slot_name: string; active: boolean; lag: number | null }[]>`
    select slot_name, active,
      pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn))::float8 as lag
    from pg_replication_slots
    -- slots are server-wide; only this database's concern it
    where slot_name like 'pgconductor%' and database = current_database()
    order by slot_name`;

  const pauses = await listPauses(sql);
  const sections = [
    "Queues",
    queues.length === 0
      ? "  (no executions)"
      : indent(renderTable(["queue", "runnable", "delayed", "running", "failed"], queues.map((q) => [q.queue, q.runnable, q.delayed, q.running, q.failed]), new Set([1, 2, 3, 4]))),
    "",
    "Orchestrators",
    orchestrators.length === 0
      ? "  (none running)"
      : indent(renderTable(["id", "host", "pid", "up", "heartbeat", "health"], orchestrators.map((o) => [
          o.id, o.hostname, o.pid, formatAge(o.started), `${formatAge(o.age)} ago${o.stop_requested ? " (asked to stop)" : ""}`, describeHealth(o.health),
        ]), new Set([2]))),
  ];
  const problems = orchestrators.filter((o) => o.health && o.health.status !== "ok" && (o.health.pushReason || o.health.tableChanges?.failure));
  if (problems.length > 0) {
    sections.push("", "Health problems", ...problems.map((o) => `  ${o.id}: ${[o.health!.pushReason, o.health!.tableChanges?.failure].filter(Boolean).join("; ")}`));
  }
  if (pauses.length > 0) {
    sections.push("", "Paused", indent(renderTable(["kind", "name", "since"], pauses.map((p) => [p.kind, p.name, p.pausedAt.toISOString()]))));
  }
  if (slots.length > 0) {
    sections.push("", "Replication slots", indent(renderTable(["slot", "active", "lag"], slots.map((s) => [
      s.slot_name, s.active ? "yes" : "no", s.lag === null ? "-" : formatBytes(s.lag),
    ]))));
  }
  return sections.join("\n");
}

/** What an orchestrator stored of its health (src/runtime/health-monitor.ts) when it last changed. */
interface StoredHealth {
  status: string;
  since: string;
  push: "listening" | "sweeping";
  pushReason: string | null;
  sweepIntervalMs: number | null;
  clockOffsetMs: number | null;
  tableChanges: { mode: string; failure: string | null } | null;
}

function describeHealth(health: StoredHealth | null): string {
  if (!health) return "-";
  const parts = [health.status, health.push === "sweeping" ? `push degraded: sweep every ${health.sweepIntervalMs} ms` : "push listening"];
  if (health.tableChanges) parts.push(`table changes ${health.tableChanges.mode}`);
  if (health.clockOffsetMs !== null && Math.abs(health.clockOffsetMs) >= 1_000) parts.push(`clock off by ${health.clockOffsetMs} ms`);
  return parts.join(", ");
}

const indent = (text: string) => text.split("\n").map((line) => `  ${line}`).join("\n");
