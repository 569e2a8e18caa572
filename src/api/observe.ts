/**
 * conductor.observe(): execution events from the push channel, filtered, completed from the tables
 * where the notification left details out, optionally preceded by history rebuilt from the tables.
 */
import { concatMap, defer, EMPTY, from, mergeMap, type Observable } from "rxjs";
import { DEFAULT_HISTORY_LIMIT, DEFAULT_HISTORY_WINDOW_MS } from "../model/defaults";
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { readDetails, readHistory } from "../db/observability";
import { listPauses, pauseTime } from "../db/flow-control";
import type { PauseChange, WireEvent } from "../model/channels";
import type { HubMessage } from "../streams/observer-hub";
import type { ExecutionEvent, ObserveFilter, PauseEvent } from "../model/execution-event";
import { eventKey, historyEvents } from "./execution-history";

const KINDS: readonly string[] = ["created", "started", "completed", "failed", "retrying", "released", "cancelled", "paused", "resumed"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ObserveSource {
  sql: Sql;
  messages(): Observable<HubMessage>;
}

interface CompiledFilter {
  tasks: ReadonlySet<string> | null;
  queues: ReadonlySet<string> | null;
  ids: ReadonlySet<string> | null;
  kinds: ReadonlySet<string> | null;
}

const asList = (value: string | readonly string[] | undefined) =>
  value === undefined ? null : typeof value === "string" ? [value] : [...value];

export function compileFilter(filter: ObserveFilter = {}): CompiledFilter {
  const ids = asList(filter.executionId);
  for (const id of ids ?? []) {
    if (!UUID.test(id)) throw new ConfigurationError(`observe: executionId must be an execution id (a UUID), got "${id}"`);
  }
  for (const kind of asList(filter.kind) ?? []) {
    if (!KINDS.includes(kind)) throw new ConfigurationError(`observe: unknown event kind "${kind}" (kinds: ${KINDS.join(", ")})`);
  }
  const set = (list: string[] | null) => (list ? new Set(list) : null);
  return { tasks: set(asList(filter.task)), queues: set(asList(filter.queue)), ids: set(ids), kinds: set(asList(filter.kind)) };
}

export function matches(filter: CompiledFilter, event: { kind: string; executionId: string; task?: string; queue?: string }): boolean {
  return (!filter.ids || filter.ids.has(event.executionId))
    && (!filter.kinds || filter.kinds.has(event.kind))
    && (!filter.tasks || event.task === undefined || filter.tasks.has(event.task))
    && (!filter.queues || event.queue === undefined || filter.queues.has(event.queue));
}

/** Whether a pause event passes the filter: as an execution event would, but never by id. */
export function matchesPause(filter: CompiledFilter, event: PauseEvent): boolean {
  return !filter.ids && matches(filter, { kind: event.kind, executionId: "", task: event.task, queue: event.queue });
}

/** A pause read by the replay and again from its held announcement is the same pause time. */
const pauseKey = (event: PauseEvent) => `${event.kind}|${event.queue ?? ""}|${event.task ?? ""}|${event.at.getTime()}`;

/** A pause of `name` as an event: a task's carries its queue when known. */
function pauseTarget(kind: "queue" | "task", name: string, taskQueue: string | null): { queue?: string; task?: string } {
  if (kind === "queue") return { queue: name };
  return taskQueue === null ? { task: name } : { task: name, queue: taskQueue };
}

export function observeExecutions(source: ObserveSource, filter: ObserveFilter = {}): Observable<ExecutionEvent | PauseEvent> {
  const compiled = compileFilter(filter);
  const wantsPauses = Boolean(filter.pauses);
  return defer(() => {
    const wantsHistory = Boolean(filter.history);
    let replayed = false;
    /** Live messages that arrived before the history read; its snapshot already holds their events. */
    const early: Exclude<HubMessage, { type: "ready" }>[] = [];
    let seen = new Set<string>();

    const liveEvents = (wire: WireEvent[]): Observable<ExecutionEvent> =>
      from(completeEvents(source.sql, wire.filter((event) => matches(compiled, wireView(event))))).pipe(
        mergeMap((events) => from(events.filter((event) => matches(compiled, event) && !seen.has(eventKey(event))))),
      );
    const livePause = (change: PauseChange): Observable<PauseEvent> =>
      from(pauseEvent(source.sql, change)).pipe(
        mergeMap((event) => (matchesPause(compiled, event) && !seen.has(pauseKey(event)) ? [event] : [])),
      );
    const live = (message: Exclude<HubMessage, { type: "ready" }>): Observable<ExecutionEvent | PauseEvent> =>
      message.type === "events" ? liveEvents(message.events) : wantsPauses ? livePause(message.change) : EMPTY;

    return source.messages().pipe(
      concatMap((message) => {
        if (message.type !== "ready") {
          if (wantsHistory && !replayed) {
            early.push(message);
            return EMPTY;
          }
          return live(message);
        }
        if (!wantsHistory || replayed) return EMPTY;
        replayed = true;
        return from(replay(source.sql, compiled, filter.history!, wantsPauses)).pipe(
          mergeMap((events) => {
            seen = new Set(events.map((event) => ("executionId" in event ? eventKey(event) : pauseKey(event))));
            const held = early.splice(0);
            return from([from(events), ...held.map(live)]).pipe(concatMap((part) => part));
          }),
        );
      }),
    );
  });
}

/** A pause announcement as a public event, timed by the database. */
async function pauseEvent(sql: Sql, change: PauseChange): Promise<PauseEvent> {
  const { now, pausedAt, taskQueue } = await pauseTime(sql, change);
  const target = pauseTarget(change.kind, change.name, taskQueue);
  return change.paused ? { kind: "paused", ...target, at: pausedAt ?? now } : { kind: "resumed", ...target, at: now };
}

const wireView = (event: WireEvent) => ({ kind: event.kind, executionId: event.id, task: event.task, queue: event.queue });

/** Turns wire events into public ones, reading rows only for events sent bare. */
async function completeEvents(sql: Sql, wire: WireEvent[]): Promise<ExecutionEvent[]> {
  const bare = wire.filter((event) => event.more || event.task === undefined || event.queue === undefined);
  const details = await readDetails(sql, bare.map((event) => event.id));
  const events: ExecutionEvent[] = [];
  for (const event of wire) {
    const row = details.get(event.id);
    const task = event.task ?? row?.task_key;
    const queue = event.queue ?? row?.queue;
    if (task === undefined || queue === undefined) continue; // removed before we could read it
    const out: ExecutionEvent = { kind: event.kind, executionId: event.id, task, queue, attempt: event.attempt, at: new Date(event.at) };
    if (event.kind === "completed") out.result = event.more ? row?.result ?? null : event.result ?? null;
    const error = event.more
      ? event.kind === "cancelled" ? row?.cancel_reason ?? "cancelled" : row?.last_error ?? undefined
      : event.error;
    if (error !== undefined) out.error = error;
    events.push(out);
  }
  return events;
}

async function replay(
  sql: Sql,
  filter: CompiledFilter,
  history: NonNullable<ObserveFilter["history"]>,
  withPauses: boolean,
): Promise<(ExecutionEvent | PauseEvent)[]> {
  const options = typeof history === "object" ? history : {};
  const rows = await readHistory(sql, {
    since: options.since ?? new Date(Date.now() - DEFAULT_HISTORY_WINDOW_MS),
    limit: options.limit ?? DEFAULT_HISTORY_LIMIT,
    tasks: filter.tasks ? [...filter.tasks] : null,
    queues: filter.queues ? [...filter.queues] : null,
    ids: filter.ids ? [...filter.ids] : null,
  });
  const pauses: PauseEvent[] = withPauses
    ? (await listPauses(sql))
        .map((p): PauseEvent => ({ kind: "paused", ...pauseTarget(p.kind, p.name, p.taskQueue), at: p.pausedAt, replayed: true }))
        .filter((event) => matchesPause(filter, event))
    : [];
  const executions = rows.flatMap(historyEvents).filter((event) => matches(filter, event));
  return [...executions, ...pauses].sort((a, b) => a.at.getTime() - b.at.getTime());
}
