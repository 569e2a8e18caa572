/** The Conductor: task definitions, the database connection, invoke, cancel, workers. */
import postgres, { type Sql } from "postgres";
import type { DatabaseSchema, DatabaseSchemaLike } from "../model/database-schema";
import type { CheckTableTriggers } from "../model/table-types";
import { EventSchemas, TaskSchemas, type EventTypeMap, type TaskTypeMap } from "../model/definitions";
import { ConfigurationError, UnknownTaskError } from "../model/errors";
import { createConsoleLogger, type Logger } from "../model/logger";
import type { Task, TaskHandler, TaskOptions, TaskReference, Trigger } from "../model/task";
import { validateWith } from "../model/validate";
import { cancelExecution } from "../db/outcomes";
import { findUnfinishedByDedupeKey, invokeExecutions, type NewExecution } from "../db/invoke";
import type { Observable } from "rxjs";
import { Observability, type ExecutionInfo } from "./observability";
import type { ExecutionEvent, ObserveFilter, PauseEvent } from "../model/execution-event";
import type { ResultOptions } from "./results";
import { migrate } from "../db/migrator";
import { resolveWorkerConfig, type WorkerConfig, type WorkerDefinition } from "../model/worker-config";
import { validateTriggers } from "../model/triggers";
import { isBatchInvoke, writeOncePerDedupeKey } from "./invoke-batch";
import { resolveTaskSettings } from "../model/task-settings";
import { invokeWithGates, resolveGate } from "./invoke-gates";
import { withTraceContext } from "./invoke-trace";
import { resolveConcurrencyKey, writeKeyedApart } from "./invoke-flow";
import { resolveFlowSettings } from "../model/flow-settings";
import { invokeKeyed, listPauses, setPaused } from "../db/flow-control";
import { pauseTarget, type PauseSelector, type PausedEntry } from "./pause-target";
import type { BatchTaskContext } from "../runtime/batch-runner";
import type { TaskEvent } from "../model/task";
import { assertKnownEventTriggers, validateEvent } from "../model/event-validation";
import { eventSubscriptionsOf } from "../model/trigger-specs";
import { emitEvent } from "../db/events";
import { removeSchedule, upsertSchedule } from "../db/schedules";
import { joinable, type TransactionOptions } from "../db/transaction";
import { cronProblem, nextFireTime } from "../model/cron-times";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_PRIORITY, DEFAULT_QUEUE, DEFAULT_TIME_ZONE } from "../model/defaults";

export interface ConductorOptions<Tasks extends TaskTypeMap, Events extends EventTypeMap, Context extends object, Database = unknown> {
  sql?: Sql;
  connectionString?: string;
  tasks: TaskSchemas<Tasks>;
  context?: Context;
  logger?: Logger;
  events?: EventSchemas<Events>;
  database?: DatabaseSchema<Database>;
}

export interface InvokeOptions {
  /** Per task and queue: while an execution with this key is unfinished, invoking again returns its id. */
  dedupe_key?: string;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this time (a Date or epoch milliseconds). */
  run_at?: Date | number;
  /** At most one execution per `seconds` for the task and dedupe_key; calls inside the window get its id. */
  throttle?: { seconds: number };
  /**
   * Calls for the task and dedupe_key collapse into one execution, run `seconds` after the last call
   * with its payload; with `maxSeconds`, never later than that after the first call of the series.
   */
  debounce?: { seconds: number; maxSeconds?: number };
  /** The key per-key limits count this execution under (the task needs keyConcurrency or rateLimit.perKey). */
  concurrency_key?: string;
}

export interface InvokeItem<Payload> extends InvokeOptions {
  payload: Payload;
}

export interface CreateWorkerOptions {
  queue: string;
  tasks: readonly Task[];
  config?: WorkerConfig;
}

export type { WorkerDefinition };

export class Conductor<
  Tasks extends TaskTypeMap = TaskTypeMap,
  Events extends EventTypeMap = EventTypeMap,
  Context extends object = {},
  /** The user's tables (from DatabaseSchema), for typed table triggers. */
  Database = unknown,
> {
  readonly sql: Sql;
  readonly logger: Logger;
  readonly context: Context;
  readonly taskSchemas: TaskSchemas<Tasks>;
  readonly eventSchemas: EventSchemas<Events> | undefined;
  readonly database: DatabaseSchemaLike | undefined;
  /** Tasks registered with createTask, by name. */
  readonly tasks = new Map<string, Task>();
  private readonly ownsSql: boolean;
  private installing: Promise<unknown> | null = null;
  private readonly observability: Observability;

  private constructor(options: ConductorOptions<Tasks, Events, Context, Database>) {
    if (options.sql && options.connectionString) {
      throw new ConfigurationError("Conductor.create: pass either `sql` or `connectionString`, not both");
    }
    if (!options.sql && !options.connectionString) {
      throw new ConfigurationError("Conductor.create: a database is required: pass `sql` (a postgres.js instance) or `connectionString`");
    }
    if (!(options.tasks instanceof TaskSchemas)) {
      throw new ConfigurationError("Conductor.create: `tasks` must be TaskSchemas.fromSchema([...]) or TaskSchemas.fromTypes<[...]>()");
    }
    this.ownsSql = !options.sql;
    // postgres.js shares one reconnect backoff (up to 20 s) between the pool and the LISTEN connection;
    // capped at 2 s so a restarted server is listened to again quickly.
    this.sql = options.sql ?? postgres(options.connectionString!, { onnotice: () => {}, backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 2) });
    this.logger = options.logger ?? createConsoleLogger();
    this.context = (options.context ?? {}) as Context;
    this.taskSchemas = options.tasks;
    this.eventSchemas = options.events;
    this.database = options.database;
    this.observability = new Observability({ sql: this.sql, logger: this.logger, ensureInstalled: () => this.ensureInstalled() });
  }

  static create<Tasks extends TaskTypeMap, Events extends EventTypeMap = EventTypeMap, Context extends object = {}, Database = unknown>(
    options: ConductorOptions<Tasks, Events, Context, Database>,
  ): Conductor<Tasks, Events, Context, Database> {
    return new Conductor(options);
  }

  /** Installs or migrates the schema; idempotent, and safe when many processes call it at once. */
  async ensureInstalled(): Promise<void> {
    this.installing ??= migrate(this.sql).catch((error) => {
      this.installing = null;
      throw error;
    });
    await this.installing;
  }

  /** A batch task: the handler gets `(events[], ctx)` and returns nothing or one result per event. */
  createTask<const Name extends keyof Tasks & string, const Triggers extends Trigger | readonly Trigger[]>(
    taskRef: TaskOptions<Name> & { batch: { size: number; timeoutMs: number } },
    triggers: Triggers & NoInfer<CheckTableTriggers<Triggers, Database>>,
    handler: (
      events: TaskEvent<Triggers, Tasks[Name]["payload"], Events, Database>[],
      ctx: BatchTaskContext<Context>,
    ) => Promise<Tasks[Name]["returns"][] | void> | Tasks[Name]["returns"][] | void,
  ): Task<Name>;
  createTask<const Name extends keyof Tasks & string, const Triggers extends Trigger | readonly Trigger[]>(
    taskRef: TaskOptions<Name>,
    triggers: Triggers & NoInfer<CheckTableTriggers<Triggers, Database>>,
    handler: TaskHandler<Tasks, Context, Triggers, Name, Events, Database>,
  ): Task<Name>;
  createTask(taskRef: TaskOptions, triggers: Trigger | readonly Trigger[], handler: (...args: any[]) => unknown): Task {
    const name = taskRef?.name;
    this.assertKnownTask(name);
    if (typeof handler !== "function") throw new ConfigurationError(`createTask "${name}": the handler must be a function`);
    const maxAttempts = taskRef.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigurationError(`createTask "${name}": maxAttempts must be a positive integer (got ${taskRef.maxAttempts})`);
    }
    const triggerList = (Array.isArray(triggers) ? triggers : [triggers]) as Trigger[];
    validateTriggers(name, triggerList);
    assertKnownEventTriggers(name, triggerList, this.eventSchemas);
    resolveTaskSettings(taskRef);
    resolveFlowSettings(taskRef);
    const task: Task = {
      name,
      queue: taskRef.queue ?? DEFAULT_QUEUE,
      maxAttempts,
      options: taskRef,
      triggers: triggerList,
      handler: handler as Task["handler"],
    };
    this.tasks.set(name, task);
    return task;
  }

  /** Invokes one execution (returns its id) or a batch in one transaction (returns the ids in order). */
  invoke<K extends keyof Tasks & string>(ref: TaskReference<K>, items: InvokeItem<Tasks[K]["payload"]>[], options?: TransactionOptions): Promise<string[]>;
  invoke<K extends keyof Tasks & string>(ref: TaskReference<K>, payload: Tasks[K]["payload"], options?: InvokeOptions & TransactionOptions): Promise<string>;
  async invoke(ref: TaskReference, payloadOrItems: unknown, options: InvokeOptions & TransactionOptions = {}): Promise<string | string[]> {
    const batch = isBatchInvoke<InvokeItem<unknown>>(payloadOrItems);
    const items: InvokeItem<unknown>[] = batch ? payloadOrItems : [{ ...options, payload: payloadOrItems }];
    const prepared: NewExecution[] = [];
    for (const item of items) prepared.push(await this.prepareInvoke(ref, item.payload, item));
    const rows = withTraceContext(prepared);
    await this.ensureInstalled();
    const invokePlain = (db: Sql, plain: NewExecution[]) =>
      writeKeyedApart(plain, (unkeyed) => writeOncePerDedupeKey(unkeyed, (unique) => invokeExecutions(db, unique)),
        (keyed) => writeOncePerDedupeKey(keyed, (unique) => invokeKeyed(db, unique)));
    const db = joinable(options.sql ?? this.sql);
    const resolved = rows.some((row) => row.gate || row.concurrencyKey != null)
      ? await invokeWithGates(db, rows, invokePlain)
      : await invokePlain(db, rows);
    return batch ? resolved : resolved[0];
  }

  /** Validates an invocation and turns it into a row; writes nothing. */
  async prepareInvoke(ref: TaskReference, payload: unknown, options: InvokeOptions = {}): Promise<NewExecution> {
    const name = ref?.name;
    this.assertKnownTask(name);
    const definition = this.taskSchemas.definitions?.get(name);
    const value = await validateWith(definition?.payload, payload, `Task "${name}"`);
    const runAt = options.run_at === undefined ? null : new Date(options.run_at);
    if (runAt && Number.isNaN(runAt.getTime())) throw new ConfigurationError(`Task "${name}": run_at is not a valid time (${String(options.run_at)})`);
    if (options.priority !== undefined && !Number.isInteger(options.priority)) {
      throw new ConfigurationError(`Task "${name}": priority must be an integer (got ${options.priority})`);
    }
    const gate = resolveGate(name, options);
    const concurrencyKey = resolveConcurrencyKey(name, options.concurrency_key, this.tasks.get(name));
    return {
      taskKey: name,
      queue: ref.queue ?? this.tasks.get(name)?.queue ?? DEFAULT_QUEUE,
      payload: value,
      dedupeKey: options.dedupe_key ?? null,
      priority: options.priority ?? DEFAULT_PRIORITY,
      runAt,
      gate,
      concurrencyKey,
    };
  }

  /**
   * Emits a custom event (validated against its EventSchemas entry; nothing is written when it fails):
   * every task with a matching `{ event }` trigger gets one execution. Returns the event id.
   */
  async emit<E extends keyof Events & string>(name: E, payload: Events[E]["payload"], options: TransactionOptions = {}): Promise<string> {
    const value = await validateEvent(this.eventSchemas, name, payload);
    await this.ensureInstalled();
    return emitEvent(options.sql ?? this.sql, name, value, eventSubscriptionsOf([...this.tasks.values()], name));
  }

  /**
   * Creates or replaces (same task and name) a dynamic cron schedule; `event.name` of its runs is
   * `scheduleName`. Returns the fire time of its pending run.
   */
  async schedule<K extends keyof Tasks & string>(
    ref: TaskReference<K>,
    scheduleName: string,
    schedule: { cron: string; tz?: string },
    payload?: Tasks[K]["payload"],
    options: TransactionOptions = {},
  ): Promise<Date> {
    const name = ref?.name;
    this.assertKnownTask(name);
    const label = `schedule "${scheduleName}" of task "${name}"`;
    if (typeof scheduleName !== "string" || scheduleName.length === 0) throw new ConfigurationError(`schedule of task "${name}": the schedule name must be a non-empty string`);
    const tz = schedule?.tz ?? DEFAULT_TIME_ZONE;
    const problem = cronProblem(schedule?.cron, tz);
    if (problem) throw new ConfigurationError(`${label}: ${problem}`);
    const row = payload === undefined ? null : await this.prepareInvoke(ref, payload);
    await this.ensureInstalled();
    return withConfigurationErrors(() =>
      upsertSchedule(options.sql ?? this.sql, {
        taskKey: name,
        queue: ref.queue ?? this.tasks.get(name)?.queue ?? DEFAULT_QUEUE,
        name: scheduleName,
        cron: schedule.cron,
        tz,
        payload: row ? row.payload : null,
        first: nextFireTime(schedule.cron, tz, new Date()),
      }),
    );
  }

  /** Removes a dynamic schedule and cancels its run that has not started; false when there was none. */
  async unschedule<K extends keyof Tasks & string>(ref: TaskReference<K>, scheduleName: string, options: TransactionOptions = {}): Promise<boolean> {
    this.assertKnownTask(ref?.name);
    await this.ensureInstalled();
    return withConfigurationErrors(() => removeSchedule(options.sql ?? this.sql, ref.name, scheduleName));
  }

  /**
   * Cancels an execution: a pending one never runs, a running one stops at its next step or checkpoint.
   * `cancel({ name, queue? }, dedupeKey)` cancels the unfinished execution invoked with that key.
   * False when there is nothing unfinished to cancel.
   */
  cancel(executionId: string, options?: { reason?: string }): Promise<boolean>;
  cancel<K extends keyof Tasks & string>(ref: TaskReference<K>, dedupeKey: string, options?: { reason?: string }): Promise<boolean>;
  async cancel(target: string | TaskReference, second?: string | { reason?: string }, third?: { reason?: string }): Promise<boolean> {
    await this.ensureInstalled();
    if (typeof target === "string") return cancelExecution(this.sql, target, (second as { reason?: string } | undefined)?.reason ?? null);
    this.assertKnownTask(target?.name);
    if (typeof second !== "string" || second.length === 0) {
      throw new ConfigurationError(`cancel("${target.name}"): a dedupe key (non-empty string) is required after the task reference`);
    }
    const queue = target.queue ?? this.tasks.get(target.name)?.queue ?? DEFAULT_QUEUE;
    const id = await findUnfinishedByDedupeKey(this.sql, target.name, queue, second);
    return id === null ? false : cancelExecution(this.sql, id, third?.reason ?? null);
  }

  /**
   * Execution events (created, started, completed, failed, retrying, released, cancelled) pushed on
   * commit. Observing opens one LISTEN connection per Conductor; the last unsubscribe closes it.
   */
  /** With `pauses: true`, pause and resume events of queues and tasks come too. */
  observe(filter: ObserveFilter & { pauses: true }): Observable<ExecutionEvent | PauseEvent>;
  observe(filter?: ObserveFilter): Observable<ExecutionEvent>;
  observe(filter?: ObserveFilter): Observable<ExecutionEvent | PauseEvent> {
    return this.observability.observe(filter);
  }

  /** The execution's result once it completes; rejects with its error when it fails or is cancelled. */
  result<K extends keyof Tasks & string>(executionId: string, options: ResultOptions & { task: K }): Promise<Tasks[K]["returns"]>;
  result<R = unknown>(executionId: string, options?: ResultOptions): Promise<R>;
  result(executionId: string, options?: ResultOptions & { task?: string }): Promise<unknown> {
    return this.observability.result(executionId, options);
  }

  /** invoke, then result: resolves with the handler's result, rejects with its error. */
  async invokeAndWait<K extends keyof Tasks & string>(
    ref: TaskReference<K>,
    payload: Tasks[K]["payload"],
    options: InvokeOptions & ResultOptions = {},
  ): Promise<Tasks[K]["returns"]> {
    const { timeoutMs, ...invokeOptions } = options;
    const id = await this.invoke(ref, payload, invokeOptions);
    return this.observability.result(id, { timeoutMs }) as Promise<Tasks[K]["returns"]>;
  }

  /** State, attempts, timestamps, last error, result, stored step names, parent and children; null if unknown. */
  getExecution(executionId: string): Promise<ExecutionInfo | null> {
    return this.observability.getExecution(executionId);
  }

  /**
   * Pauses a queue or a task everywhere (persisted, so it holds across restarts): nothing of it is
   * claimed until resume; running executions finish. Returns false when it was already paused.
   */
  async pause(selector: PauseSelector): Promise<boolean> {
    const target = pauseTarget("pause", selector);
    await this.ensureInstalled();
    return setPaused(this.sql, target, true);
  }

  /** Resumes a paused queue or task; workers are woken at once. False when it was not paused. */
  async resume(selector: PauseSelector): Promise<boolean> {
    const target = pauseTarget("resume", selector);
    await this.ensureInstalled();
    return setPaused(this.sql, target, false);
  }

  /** The queues and tasks paused now. */
  async paused(): Promise<PausedEntry[]> {
    await this.ensureInstalled();
    return (await listPauses(this.sql)).map((p) => ({ [p.kind]: p.name, pausedAt: p.pausedAt }) as PausedEntry);
  }

  createWorker(options: CreateWorkerOptions): WorkerDefinition {
    if (!options?.queue) throw new ConfigurationError("createWorker: `queue` is required");
    for (const task of options.tasks ?? []) {
      if (task.queue !== options.queue) {
        throw new ConfigurationError(`createWorker: task "${task.name}" belongs to queue "${task.queue}", not "${options.queue}"`);
      }
    }
    return { queue: options.queue, tasks: options.tasks ?? [], config: resolveWorkerConfig(options.config) };
  }

  /** Ends the connection pool the Conductor opened itself (a `sql` you passed in is left open). */
  async close(): Promise<void> {
    await this.observability.close();
    if (this.ownsSql) await this.sql.end({ timeout: 5 });
  }

  private assertKnownTask(name: string): void {
    if (typeof name !== "string" || name.length === 0) throw new ConfigurationError("A task reference needs a `name`");
    const definitions = this.taskSchemas.definitions;
    if (definitions && !definitions.has(name)) throw new UnknownTaskError(name, [...definitions.keys()]);
  }
}

/** The schedule functions reject a misuse (e.g. unscheduling a static trigger) with SQLSTATE 22023. */
async function withConfigurationErrors<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string })?.code === "22023") throw new ConfigurationError((error as Error).message);
    throw error;
  }
}
