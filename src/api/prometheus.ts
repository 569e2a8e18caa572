/**
 * Database-wide gauges in the Prometheus text format (version 0.0.4), for a `/metrics` scrape:
 * what is waiting, running and failed per queue, how old the oldest due execution is, what finished
 * in the last hour, orchestrator heartbeats, replication slot lag. Counters of what one process did
 * (started, completed, durations) come from OpenTelemetry in that process instead (see telemetry).
 */
import type { Sql } from "postgres";
import { listOrchestrators, listSchedules, listTableTriggers, queueStats } from "./overview";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricFamily {
  name: string;
  help: string;
  type: "gauge" | "counter";
  samples: { labels?: Record<string, string>; value: number }[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Pure: families → exposition text (one HELP and TYPE line per family, then its samples). */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const rendered = labels.length === 0 ? "" : `{${labels.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`;
      lines.push(`${family.name}${rendered} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function databaseMetricFamilies(sql: Sql): Promise<MetricFamily[]> {
  const [queues, orchestrators, schedules, replication] = await Promise.all([
    queueStats(sql, { minutes: 60 }), listOrchestrators(sql), listSchedules(sql), listTableTriggers(sql),
  ]);
  const states = ["runnable", "delayed", "running", "failed", "cancelled"] as const;
  const finished = (kind: "completed" | "failed" | "cancelled") =>
    queues.map((q) => ({ labels: { queue: q.queue, status: kind }, value: q.throughput.reduce((sum, p) => sum + p[kind], 0) }));
  return [
    {
      name: "pgconductor_executions", type: "gauge",
      help: "Executions per queue and state (runnable: pending and due; delayed: pending with a future run_at).",
      samples: queues.flatMap((q) => states.map((state) => ({ labels: { queue: q.queue, state }, value: q[state] }))),
    },
    {
      name: "pgconductor_queue_oldest_due_seconds", type: "gauge",
      help: "Seconds the oldest runnable execution of the queue has been due (0 when none waits).",
      samples: queues.map((q) => ({ labels: { queue: q.queue }, value: q.oldestDueSeconds })),
    },
    {
      name: "pgconductor_executions_finished_last_hour", type: "gauge",
      help: "Executions that finished in the last 60 minutes, per queue and outcome.",
      samples: [...finished("completed"), ...finished("failed"), ...finished("cancelled")],
    },
    { name: "pgconductor_orchestrators", type: "gauge", help: "Registered orchestrators.", samples: [{ value: orchestrators.length }] },
    {
      name: "pgconductor_orchestrator_heartbeat_age_seconds", type: "gauge", help: "Seconds since each orchestrator's last heartbeat.",
      samples: orchestrators.map((o) => ({ labels: { orchestrator: o.id, hostname: o.hostname }, value: o.heartbeatAgeSeconds })),
    },
    {
      name: "pgconductor_schedule_next_fire_timestamp_seconds", type: "gauge", help: "Next fire time of each cron schedule (Unix seconds).",
      samples: schedules.filter((s) => s.nextFireAt).map((s) => ({ labels: { task: s.task, schedule: s.name }, value: s.nextFireAt!.getTime() / 1000 })),
    },
    {
      name: "pgconductor_replication_slot_lag_bytes", type: "gauge", help: "WAL bytes written since the replication slot's confirmed position.",
      samples: replication.slots.filter((s) => s.lagBytes !== null).map((s) => ({ labels: { slot: s.slot }, value: s.lagBytes! })),
    },
    {
      name: "pgconductor_replication_slot_active", type: "gauge", help: "1 when a consumer reads the replication slot.",
      samples: replication.slots.map((s) => ({ labels: { slot: s.slot }, value: s.active ? 1 : 0 })),
    },
  ];
}

/** The `/metrics` text for this database. */
export async function prometheusMetrics(sql: Sql): Promise<string> {
  return renderPrometheus(await databaseMetricFamilies(sql));
}
