/**
 * Waiting for an execution's outcome from outside a task. Subscribes to the push stream first, then
 * (on every `ready`: after LISTEN and after each reconnect) reads the row, so an execution that
 * finished before or while we subscribed is found by the read and one that finishes later by its event.
 */
import { concatMap, EMPTY, EmptyError, filter, firstValueFrom, from, take, throwError, timeout, type Observable } from "rxjs";
import type { Sql } from "postgres";
import { ConfigurationError, PgConductorError } from "../model/errors";
import { ExecutionCancelledError, ExecutionFailedError, ExecutionNotFoundError, ResultTimeoutError } from "../model/execution-errors";
import { readDetails } from "../db/observability";
import { isFinal, type WireEvent } from "../model/channels";
import type { HubMessage } from "../streams/observer-hub";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ResultOptions {
  /** Reject with ResultTimeoutError after this long (the execution keeps running). Default: wait forever. */
  timeoutMs?: number;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: Error } | null;

export async function waitForResult(
  source: { sql: Sql; messages(): Observable<HubMessage> },
  executionId: string,
  options: ResultOptions & { task?: string } = {},
): Promise<unknown> {
  if (typeof executionId !== "string" || !UUID.test(executionId)) {
    throw new ConfigurationError(`result: the execution id must be a UUID, got ${JSON.stringify(executionId)}`);
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new ConfigurationError(`result: timeoutMs must be a non-negative number of milliseconds (got ${timeoutMs})`);
  }
  const fromRow = async (): Promise<Outcome> => {
    const row = (await readDetails(source.sql, [executionId])).get(executionId);
    if (!row) return { ok: false, error: new ExecutionNotFoundError(executionId) };
    if (options.task !== undefined && row.task_key !== options.task) {
      return { ok: false, error: new ConfigurationError(`result: execution ${executionId} belongs to task "${row.task_key}", not "${options.task}"`) };
    }
    if (row.status === "completed") return { ok: true, result: row.result };
    if (row.status === "failed") return { ok: false, error: new ExecutionFailedError(executionId, row.last_error) };
    if (row.status === "cancelled") return { ok: false, error: new ExecutionCancelledError(executionId, row.cancel_reason) };
    return null;
  };
  // A final event that carries its details settles at once (the row may already be removed by retention).
  const fromEvent = (event: WireEvent): Promise<Outcome> | Outcome => {
    if (event.more || options.task !== undefined) return fromRow();
    if (event.kind === "completed") return { ok: true, result: event.result ?? null };
    if (event.kind === "failed") return { ok: false, error: new ExecutionFailedError(executionId, event.error ?? null) };
    return { ok: false, error: new ExecutionCancelledError(executionId, event.error === "cancelled" ? null : event.error ?? null) };
  };

  let outcome$ = source.messages().pipe(
    concatMap((message) => {
      if (message.type === "ready") return from(fromRow());
      if (message.type !== "events") return EMPTY;
      const final = message.events.find((event) => event.id === executionId && isFinal(event.kind));
      return final ? from(Promise.resolve(fromEvent(final))) : EMPTY;
    }),
    filter((outcome): outcome is NonNullable<Outcome> => outcome !== null),
    take(1),
  );
  if (timeoutMs !== undefined) {
    outcome$ = outcome$.pipe(timeout({ first: timeoutMs, with: () => throwError(() => new ResultTimeoutError(executionId, timeoutMs)) }));
  }
  const outcome = await firstValueFrom(outcome$).catch((error: unknown) => {
    if (error instanceof EmptyError) throw new PgConductorError(`Stopped waiting for execution ${executionId}: the Conductor was closed`);
    throw error;
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}
