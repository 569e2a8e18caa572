/**
 * Throttle and debounce on invoke. Both key on task, queue and dedupe_key (task-wide without one) and
 * are kept in pgconductor.invoke_gates, so they hold across every process that invokes.
 */
import { ConfigurationError } from "../model/errors";
import type { Sql } from "postgres";
import type { NewExecution } from "../db/invoke";
import { invokeGated } from "../db/gates";
import { setTraceContexts } from "../db/invoke";

export interface Gate {
  kind: "throttle" | "debounce";
  seconds: number;
  /** Debounce only: the execution runs at most this long after the first call of its series. */
  maxSeconds?: number | null;
}

/** Reads `throttle` / `debounce` from invoke options; the error names the task and the rule. */
export function resolveGate(taskName: string, options: { throttle?: unknown; debounce?: unknown; run_at?: unknown }): Gate | null {
  const given = (["throttle", "debounce"] as const).filter((kind) => options[kind] !== undefined);
  if (given.length === 0) return null;
  if (given.length > 1) throw new ConfigurationError(`Task "${taskName}": throttle and debounce cannot be combined in one invoke`);
  const kind = given[0];
  const seconds = (options[kind] as { seconds?: unknown } | null)?.seconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigurationError(`Task "${taskName}": ${kind} must be { seconds: n } with n > 0 (got ${JSON.stringify(options[kind])})`);
  }
  if (kind === "debounce" && options.run_at !== undefined) {
    throw new ConfigurationError(`Task "${taskName}": debounce decides when the execution runs, so run_at cannot be given with it`);
  }
  const maxSeconds = (options[kind] as { maxSeconds?: unknown }).maxSeconds;
  if (maxSeconds === undefined) return { kind, seconds };
  if (kind === "throttle") throw new ConfigurationError(`Task "${taskName}": throttle.maxSeconds is not an option (maxSeconds belongs to debounce)`);
  if (typeof maxSeconds !== "number" || !Number.isFinite(maxSeconds) || maxSeconds < seconds) {
    throw new ConfigurationError(`Task "${taskName}": debounce.maxSeconds must be a number of seconds >= debounce.seconds (${seconds}) (got ${JSON.stringify(maxSeconds)})`);
  }
  return { kind, seconds, maxSeconds };
}

/**
 * A batch with gated rows: the plain rows through `invokePlain`, the gated ones through the gates,
 * in one transaction; ids come back in input order.
 */
export async function invokeWithGates(
  sql: Sql,
  rows: readonly (NewExecution & { gate?: Gate | null })[],
  invokePlain: (tx: Sql, rows: NewExecution[]) => Promise<string[]>,
): Promise<string[]> {
  return (await sql.begin(async (tx) => {
    const plain = rows.filter((row) => !row.gate);
    const gated = rows.filter((row) => row.gate);
    const plainIds = plain.length ? await invokePlain(tx as unknown as Sql, plain) : [];
    const gatedIds = await invokeGated(
      tx,
      gated.map((row) => ({
        taskKey: row.taskKey,
        queue: row.queue,
        payload: row.payload,
        key: row.dedupeKey ?? null,
        priority: row.priority ?? null,
        runAt: row.runAt ?? null,
        kind: row.gate!.kind,
        seconds: row.gate!.seconds,
        maxSeconds: row.gate!.maxSeconds ?? null,
        concurrencyKey: row.concurrencyKey ?? null,
      })),
    );
    let p = 0;
    let g = 0;
    const ids = rows.map((row) => (row.gate ? gatedIds[g++] : plainIds[p++]));
    // invoke_gated and invoke_keyed take no trace context: set it here, in the same transaction.
    const flowed = rows.map((row, i) => ({ row, id: ids[i] })).filter(({ row }) => row.gate || row.concurrencyKey != null);
    await setTraceContexts(tx, flowed.map(({ id }) => id), flowed.map(({ row }) => row.traceContext ?? null));
    return ids;
  })) as string[];
}
