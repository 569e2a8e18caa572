/**
 * conductor.observe(): execution events from the push channel, filtered, completed from the tables
 * where the notification left details out, optionally preceded by history rebuilt from the tables.
 */
import { concatMap, defer, EMPTY, from, mergeMap, type Observable } from "rxjs";
import { DEFAULT_HISTORY_LIMIT, DEFAULT_HISTORY_WINDOW_MS } from "../model/defaults";
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { readDetails, readHistory } from "../db/observability";
import type { WireEvent } from "../model/channels";
import type { HubMessage } from "../streams/observer-hub";
import type { ExecutionEvent, ObserveFilter } from "../model/execution-event";
import { eventKey, historyEvents } from "./execution-history";

const KINDS: readonly string[] = ["created", "started", "completed", "failed", "retrying", "released", "cancelled"];
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

export function observeExecutions(source: ObserveSource, filter: ObserveFilter = {}): Observable<ExecutionEvent> {
  const compiled = compileFilter(filter);
  return defer(() => {
    const wantsHistory = Boolean(filter.history);
    let replayed = false;
    /** Live events that arrived before the history read; its snapshot already holds them. */
    const early: WireEvent[][] = [];
    let seen = new Set<string>();

    const live = (wire: WireEvent[]): Observable<ExecutionEvent> =>
      from(completeEvents(source.sql, wire.filter((event) => matches(compiled, wireView(event))))).pipe(
        mergeMap((events) => from(events.filter((event) => matches(compiled, event) && !seen.has(eventKey(event))))),
      );

    return source.messages().pipe(
      concatMap((message) => {
        if (message.type === "events") {
          if (wantsHistory && !replayed) {
            early.push(message.events);
            return EMPTY;
          }
          return live(message.events);
        }
        if (!wantsHistory || replayed) return EMPTY;
        replayed = true;
        return from(replay(source.sql, compiled, filter.history!)).pipe(
          mergeMap((events) => {
            seen = new Set(events.map(eventKey));
            const held = early.splice(0);
            return from([from(events), ...held.map(live)]).pipe(concatMap((part) => part));
          }),
        );
      }),
    );
  });
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

async function replay(sql: Sql, filter: CompiledFilter, history: NonNullable<ObserveFilter["history"]>): Promise<ExecutionEvent[]> {
  const options = typeof history === "object" ? history : {};
  const rows = await readHistory(sql, {
    since: options.since ?? new Date(Date.now() - DEFAULT_HISTORY_WINDOW_MS),
    limit: options.limit ?? DEFAULT_HISTORY_LIMIT,
    tasks: filter.tasks ? [...filter.tasks] : null,
    queues: filter.queues ? [...filter.queues] : null,
    ids: filter.ids ? [...filter.ids] : null,
  });
  return rows
    .flatMap(historyEvents)
    .filter((event) => matches(filter, event))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}
