/**
 * The state of a database at a glance: queues with counts, oldest due execution and throughput per
 * minute; cron schedules with their next fire; table triggers with the replication slot's lag;
 * orchestrators with their heartbeat age and what their workers are running; paused queues and tasks.
 */
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { requireInstalled } from "./inspect-installed";
import {
  readOrchestrators, readQueueCounts, readSchedules, readSlots, readTableTriggers, readThroughput,
  type QueueCountRow, type ThroughputRow,
} from "../db/inspect-system";
import { listPauses } from "../db/flow-control";

export interface ThroughputPoint {
  /** Start of the minute (database time). */
  minute: Date;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface QueueStats {
  queue: string;
  /** Pending and due now. */
  runnable: number;
  /** Pending with a future run_at (scheduled, retry backoff, sleeping, waiting for a child). */
  delayed: number;
  running: number;
  failed: number;
  cancelled: number;
  /** Seconds since the oldest runnable execution became due (0 when none waits). */
  oldestDueSeconds: number;
  /** One point per minute of the window, oldest first (minutes without any are zeros). */
  throughput: ThroughputPoint[];
}

export interface QueueStatsOptions {
  /** The throughput window in minutes (default 60, at most 1440). */
  minutes?: number;
}

export async function queueStats(sql: Sql, options: QueueStatsOptions = {}): Promise<QueueStats[]> {
  const minutes = options.minutes ?? 60;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new ConfigurationError(`queueStats: minutes must be a whole number from 1 to 1440, got ${JSON.stringify(options.minutes)}`);
  }
  await requireInstalled(sql);
  const [counts, throughput] = await Promise.all([readQueueCounts(sql), readThroughput(sql, minutes)]);
  return combineQueueStats(counts, throughput.rows, throughput.now, minutes);
}

/** Pure: rows of the two reads → one entry per queue, sorted by name. */
export function combineQueueStats(counts: readonly QueueCountRow[], throughput: readonly ThroughputRow[], now: Date, minutes: number): QueueStats[] {
  const queues = new Map<string, QueueStats>();
  const entry = (queue: string) => {
    let stats = queues.get(queue);
    if (!stats) {
      const first = Math.floor(now.getTime() / 60_000) * 60_000 - (minutes - 1) * 60_000;
      stats = {
        queue, runnable: 0, delayed: 0, running: 0, failed: 0, cancelled: 0, oldestDueSeconds: 0,
        throughput: Array.from({ length: minutes }, (_, i) => ({ minute: new Date(first + i * 60_000), completed: 0, failed: 0, cancelled: 0 })),
      };
      queues.set(queue, stats);
    }
    return stats;
  };
  for (const row of counts) {
    const stats = entry(row.queue);
    if (row.status === "pending") {
      stats.runnable = row.runnable;
      stats.delayed = row.count - row.runnable;
      if (row.oldest_due) stats.oldestDueSeconds = Math.max(0, (now.getTime() - row.oldest_due.getTime()) / 1000);
    } else {
      stats[row.status] = row.count;
    }
  }
  for (const row of throughput) {
    const stats = entry(row.queue);
    const point = stats.throughput.find((p) => p.minute.getTime() === row.minute.getTime());
    if (point) Object.assign(point, { completed: row.completed, failed: row.failed, cancelled: row.cancelled });
  }
  return [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}

export interface ScheduleInfo {
  task: string;
  name: string;
  queue: string;
  cron: string;
  timeZone: string;
  /** Created by ctx.schedule / conductor.schedule rather than a { cron } trigger. */
  dynamic: boolean;
  nextFireAt: Date | null;
}

export async function listSchedules(sql: Sql): Promise<ScheduleInfo[]> {
  await requireInstalled(sql);
  return (await readSchedules(sql)).map((row) => ({
    task: row.task_key, name: row.name, queue: row.queue, cron: row.cron, timeZone: row.tz, dynamic: row.dynamic,
    nextFireAt: row.next_run_at && row.next_run_at.getTime() < 8.64e15 ? row.next_run_at : null,
  }));
}

export interface TableTriggerInfo {
  task: string;
  queue: string;
  table: string;
  operation: string;
  columns: string[];
  when: string | null;
}

export interface ReplicationSlotInfo {
  slot: string;
  active: boolean;
  /** WAL bytes written since the slot's confirmed position. */
  lagBytes: number | null;
}

export async function listTableTriggers(sql: Sql): Promise<{ triggers: TableTriggerInfo[]; slots: ReplicationSlotInfo[] }> {
  await requireInstalled(sql);
  const [triggers, slots] = await Promise.all([readTableTriggers(sql), readSlots(sql)]);
  return {
    triggers: triggers.map((row) => ({
      task: row.task_key, queue: row.queue, table: `${row.schema_name}.${row.table_name}`, operation: row.operation,
      columns: row.columns, when: row.when_condition,
    })),
    slots: slots.map((row) => ({ slot: row.slot_name, active: row.active, lagBytes: row.lag_bytes })),
  };
}

export interface OrchestratorStatus {
  id: string;
  hostname: string;
  pid: number;
  schemaVersion: number;
  startedAt: Date;
  heartbeatAgeSeconds: number;
  stopRequested: boolean;
  /** Executions its workers are running, by queue. */
  running: Record<string, number>;
}

export async function listOrchestrators(sql: Sql): Promise<OrchestratorStatus[]> {
  await requireInstalled(sql);
  return (await readOrchestrators(sql)).map((row) => ({
    id: row.id, hostname: row.hostname, pid: row.pid, schemaVersion: row.schema_version, startedAt: row.started_at,
    heartbeatAgeSeconds: row.heartbeat_age_seconds, stopRequested: row.stop_requested, running: row.running,
  }));
}

export interface PausedTarget {
  kind: "queue" | "task";
  name: string;
  pausedAt: Date;
}

/** Queues and tasks paused now (conductor.pause), with when. */
export async function listPaused(sql: Sql): Promise<PausedTarget[]> {
  return (await listPauses(sql)).map(({ kind, name, pausedAt }) => ({ kind, name, pausedAt }));
}
