/** What `createTask` takes and returns: task settings, triggers, handler types. */
import type { Logger } from "./logger";
import type { EventTypeMap, TaskTypeMap } from "./definitions";
import type { EventPayload } from "./event-types";
import type { TableChangePayload } from "./table-types";

export interface TaskOptions<Name extends string = string> {
  name: Name;
  /** Queue name (default "default"). */
  queue?: string;
  /** Attempts before the execution is recorded as failed (default 3). */
  maxAttempts?: number;
  /** Most executions of this task running at once, across every worker and machine (default unlimited). */
  concurrency?: number;
  /** Daily window ["HH:MM", "HH:MM"] (may wrap midnight) outside which executions do not run. */
  window?: [string, string];
  /** IANA time zone of `window` (default UTC). */
  windowTimeZone?: string;
  /** Keep completed executions `{ days }`, remove at once (`true`) or keep forever (`false`); default 7 days. */
  removeOnComplete?: { days: number } | boolean;
  /** The same for failed and cancelled executions; default 30 days. */
  removeOnFail?: { days: number } | boolean;
  /** Run executions in groups: the handler gets `(events[], ctx)`. */
  batch?: { size: number; timeoutMs: number };
  /** Most executions sharing a `concurrency_key` running at once, across every machine. */
  keyConcurrency?: number;
  /** At most `limit` starts per `periodSeconds`, task-wide or (perKey) per `concurrency_key`. */
  rateLimit?: { limit: number; periodSeconds: number; perKey?: boolean };
  /** Delay before each retry: initialMs × factor^(attempt − 1), at most maxMs, minus up to `jitter` of it. */
  retry?: { initialMs: number; factor?: number; maxMs?: number; jitter?: number };
  /** An attempt running longer fails with a TaskTimeoutError (ctx.signal aborts); it is retried like any failure. */
  timeoutMs?: number;
}

export interface InvocableTrigger { invocable: true }
export interface CronTrigger {
  cron: string;
  name: string;
  /** IANA time zone the expression is read in (default "UTC"). */
  tz?: string;
}
export interface EventTrigger { event: string; fields?: string }
export interface TableTrigger {
  schema: string;
  table: string;
  operation: "insert" | "update" | "delete";
  columns: string;
  when?: string;
}
export type Trigger = InvocableTrigger | CronTrigger | EventTrigger | TableTrigger;

/** The event a handler receives for one trigger kind. */
export type EventFor<T, Payload, Events = EventTypeMap, Database = unknown> = T extends InvocableTrigger
  ? { name: "pgconductor.invoke"; payload: Payload }
  : T extends { cron: string; name: infer N extends string }
    ? { name: N; payload: Record<string, unknown> | null }
    : T extends { event: infer E extends string }
      ? { name: E; payload: EventPayload<Events, E, T extends { fields: infer F } ? F : undefined> }
      : T extends { schema: infer S extends string; table: infer Tb extends string; operation: infer O extends string }
        ? { name: `${S}.${Tb}.${O}`; payload: TableChangePayload<Database, S, Tb, O, T extends { columns: infer C extends string } ? C : string> }
        : never;

export type TaskEvent<Triggers, Payload, Events = EventTypeMap, Database = unknown> = Triggers extends readonly (infer T)[]
  ? EventFor<T, Payload, Events, Database>
  : EventFor<Triggers, Payload, Events, Database>;

export interface TaskReference<Name extends string = string> {
  name: Name;
  queue?: string;
}

/** The `ctx` of a handler: durable helpers plus every property of the Conductor's `context`. */
export type TaskContext<Tasks extends TaskTypeMap, Context> = Context & {
  /** Runs `fn` once per execution; later attempts get the stored JSON result. */
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  /** Hangs the execution up (its worker slot is freed) and resumes it after `ms`. */
  sleep(name: string, ms: number): Promise<void>;
  /** Runs a child execution and returns its result; the parent hangs up until it ends. */
  invoke<K extends keyof Tasks & string>(name: string, ref: TaskReference<K>, payload: Tasks[K]["payload"], timeoutMs?: number): Promise<Tasks[K]["returns"]>;
  invoke<K extends keyof Tasks & string>(ref: TaskReference<K>, payload: Tasks[K]["payload"]): Promise<Tasks[K]["returns"]>;
  /** A release point: returns at once unless the execution should stop here (shutdown, cancel). */
  checkpoint(): Promise<void>;
  /** Creates or replaces (same name) a dynamic cron schedule of a task; returns its next fire time. */
  schedule<K extends keyof Tasks & string>(
    ref: TaskReference<K>,
    scheduleName: string,
    schedule: { cron: string; tz?: string },
    payload?: Tasks[K]["payload"],
  ): Promise<Date>;
  /** Removes a dynamic schedule and cancels its run that has not started; false when there was none. */
  unschedule<K extends keyof Tasks & string>(ref: TaskReference<K>, scheduleName: string): Promise<boolean>;
  logger: Logger;
  signal: AbortSignal;
  executionId: string;
};

export type TaskHandler<Tasks extends TaskTypeMap, Context, Triggers, Name extends keyof Tasks & string, Events = EventTypeMap, Database = unknown> = (
  event: TaskEvent<Triggers, Tasks[Name]["payload"], Events, Database>,
  ctx: TaskContext<Tasks, Context>,
) => Promise<Tasks[Name]["returns"]> | Tasks[Name]["returns"];

/** A registered task, as `createTask` returns it and workers take it. */
export interface Task<Name extends string = string> {
  readonly name: Name;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly options: TaskOptions<Name>;
  readonly triggers: readonly Trigger[];
  readonly handler: (event: { name: string; payload: unknown }, ctx: any) => unknown;
}
