/**
 * Every NOTIFY channel the processes agree on: its name, what its payload holds, and its parser.
 * The SQL side (sql/0*.sql, src/db) sends exactly these formats; a parser drops what it cannot read
 * rather than breaking the stream it sits in.
 */

/** `queue|epochMs`: work was written to `queue`, runnable from `epochMs` (pgconductor.notify_work). */
export const WORK_CHANNEL = "pgconductor_work";
/** `orchestratorId|executionId`: a running execution held by that orchestrator was cancelled. */
export const CANCEL_CHANNEL = "pgconductor_cancel";
/** `epochMs`: a cron schedule's materialised fire time (pgconductor.schedule, advance_schedules). */
export const SCHEDULE_CHANNEL = "pgconductor_schedule";
/** `stop|version`: orchestrators of a schema older than `version` are asked to stop (breaking migration). */
export const CONTROL_CHANNEL = "pgconductor_control";
/** Empty payload: the set of table triggers changed; the replication consumer reloads them. */
export const TABLE_TRIGGERS_CHANNEL = "pgconductor_table_triggers";
/** A random nonce: an orchestrator's NOTIFY to itself, to learn whether LISTEN delivers (listen-probe.ts). */
export const PROBE_CHANNEL = "pgconductor_probe";
/**
 * `sequence`: a LISTEN connection's ping to itself (src/streams/listener.ts), sent through the pool.
 * Each listener has a channel of its own, so nobody else receives its pings.
 */
export const pingChannel = (listenerId: string) => `pgconductor_ping_${listenerId}`;
/** A JSON array of WireEvent: execution events, one NOTIFY per statement (sql/006_observability.sql). */
export const EVENTS_CHANNEL = "pgconductor_events";

export interface WorkNotification {
  queue: string;
  runAt: number;
}

/** `queue|epochMs`; queue names may contain the separator, so the last one splits. */
export function parseWorkNotification(payload: string): WorkNotification | null {
  const separator = payload.lastIndexOf("|");
  if (separator < 0) return null;
  const runAt = Number(payload.slice(separator + 1));
  return Number.isFinite(runAt) ? { queue: payload.slice(0, separator), runAt } : null;
}

export interface CancelNotification {
  orchestratorId: string;
  executionId: string;
}

export function parseCancelNotification(payload: string): CancelNotification | null {
  const [orchestratorId, executionId] = payload.split("|");
  return orchestratorId && executionId ? { orchestratorId, executionId } : null;
}

/** The fire time in epoch ms, or null when the payload is not a number. */
export function parseScheduleNotification(payload: string): number | null {
  const at = Number(payload);
  return Number.isFinite(at) ? at : null;
}

export const stopRequestPayload = (version: number) => `stop|${version}`;

/** A control message asking to stop (the stored flag is what counts; this only makes it prompt). */
export function isStopRequest(payload: string): boolean {
  return payload.startsWith("stop");
}

export type ExecutionEventKind = "created" | "started" | "completed" | "failed" | "retrying" | "released" | "cancelled";

const KINDS: ReadonlySet<string> = new Set<ExecutionEventKind>(["created", "started", "completed", "failed", "retrying", "released", "cancelled"]);

/** One event as sent by pgconductor.announce. `more`: too big to send whole; read the row for task, queue, result, error. */
export interface WireEvent {
  kind: ExecutionEventKind;
  id: string;
  attempt: number;
  at: number;
  task?: string;
  queue?: string;
  error?: string;
  result?: unknown;
  more?: boolean;
}

/** Decodes a `pgconductor_events` payload; anything malformed is dropped rather than breaking the stream. */
export function parseEventPayload(payload: string): WireEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(isWireEvent);
}

function isWireEvent(value: unknown): value is WireEvent {
  if (value === null || typeof value !== "object") return false;
  const event = value as Record<string, unknown>;
  return typeof event.kind === "string" && KINDS.has(event.kind) && typeof event.id === "string"
    && typeof event.attempt === "number" && typeof event.at === "number";
}

/** `completed`, `failed` and `cancelled` end an execution; `retrying` and `released` do not. */
export function isFinal(kind: ExecutionEventKind): boolean {
  return kind === "completed" || kind === "failed" || kind === "cancelled";
}

/** `pause|queue|name`, `resume|task|name`…: a queue or task was paused or resumed (sql/010_flow_control.sql). */
export const PAUSE_CHANNEL = "pgconductor_pause";

export type PauseKind = "queue" | "task";
export interface PauseChange {
  paused: boolean;
  kind: PauseKind;
  name: string;
}

/** A `pgconductor_pause` payload; null when malformed (a name may itself contain `|`). */
export function parsePausePayload(payload: string): PauseChange | null {
  const [action, kind, ...rest] = payload.split("|");
  const name = rest.join("|");
  if ((action !== "pause" && action !== "resume") || (kind !== "queue" && kind !== "task") || name === "") return null;
  return { paused: action === "pause", kind, name };
}
