/**
 * Execution events as they travel on the `pgconductor_events` channel (see sql/006_observability.sql):
 * one NOTIFY per statement, a JSON array of compact events.
 */

export const EVENTS_CHANNEL = "pgconductor_events";

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

/** Decodes a NOTIFY payload; anything malformed is dropped rather than breaking the stream. */
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
