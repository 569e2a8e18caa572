/** The Conductor, the public face: each call checks its input and delegates to the module it imports. */
import type { Sql } from "postgres";
import type { Observable } from "rxjs";
import type { DatabaseSchemaLike } from "../model/database-schema";
import type { CheckTableTriggers } from "../model/table-types";
import type { EventSchemas, EventTypeMap, TaskSchemas, TaskTypeMap } from "../model/definitions";
import { ConfigurationError } from "../model/errors";
import { createConsoleLogger, type Logger } from "../model/logger";
import type { Task, TaskEvent, TaskHandler, TaskOptions, TaskReference, Trigger } from "../model/task";
import type { ExecutionEvent, ObserveFilter, PauseEvent } from "../model/execution-event";
import type { WorkerDefinition } from "../model/worker-config";
import { validateEvent } from "../model/event-validation";
import { eventSubscriptionsOf } from "../model/trigger-specs";
import { DEFAULT_QUEUE } from "../model/defaults";
import { cancelExecution } from "../db/outcomes";
import { checkCancelArguments } from "../model/invoke-checks";
import { findUnfinishedByDedupeKey, type NewExecution } from "../db/invoke";
import { migrate } from "../db/migrator";
import { listPauses, setPaused } from "../db/flow-control";
import { emitEvent } from "../db/events";
import { joinable, type TransactionOptions } from "../db/transaction";
import type { BatchTaskContext } from "../runtime/batch-runner";
import { Observability, type ExecutionInfo } from "./observability";
import type { ResultOptions } from "./results";
import { isBatchInvoke } from "./invoke-batch";
import { withTraceContext } from "./invoke-trace";
import { pauseTarget, type PauseSelector, type PausedEntry } from "./pause-target";
import { connectionOf, type ConductorOptions, type CreateWorkerOptions, type InvokeItem, type InvokeOptions } from "./conductor-options";
import { assertKnownTask, defineTaskHandler, defineWorker } from "./task-definition";
import { prepareInvocation, writeInvocations } from "./prepare-invoke";
import { invokeLocally } from "./invoke-local";
import type { LocalDispatch } from "../runtime/local-dispatch";
import { deleteSchedule, scheduleProblem, writeSchedule } from "./dynamic-schedules";

export type { ConductorOptions, CreateWorkerOptions, InvokeItem, InvokeOptions };
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
  /** Orchestrators in this process that take single invokes straight to an idle worker (localDispatch). */
  private readonly localDispatchers = new Set<LocalDispatch>();

  private constructor(options: ConductorOptions<Tasks, Events, Context, Database>) {
    const { sql, owned } = connectionOf(options);
    this.sql = sql;
    this.ownsSql = owned;
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
    this.assertKnownTask(taskRef?.name);
    const task = defineTaskHandler(taskRef, triggers, handler, this.eventSchemas);
    this.tasks.set(task.name, task);
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
    await this.ensureInstalled();
    const rows = withTraceContext(prepared);
    if (!batch && !options.sql && this.localDispatchers.size > 0) {
      const id = await invokeLocally(this.sql, this.localDispatchers, rows[0]);
      if (id !== null) return id;
    }
    const resolved = await writeInvocations(joinable(options.sql ?? this.sql), rows);
    return batch ? resolved : resolved[0];
  }

  /**
   * Internal (Orchestrator option localDispatch): single invokes may go straight to this
   * orchestrator's idle workers. Returns the function that detaches it again.
   */
  attachLocalDispatch(dispatcher: LocalDispatch): () => void {
    this.localDispatchers.add(dispatcher);
    return () => this.localDispatchers.delete(dispatcher);
  }

  /** Validates an invocation and turns it into a row; writes nothing. */
  async prepareInvoke(ref: TaskReference, payload: unknown, options: InvokeOptions = {}): Promise<NewExecution> {
    this.assertKnownTask(ref?.name);
    return prepareInvocation(this.taskSchemas, this.tasks, ref, payload, options);
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
    this.assertKnownTask(ref?.name);
    const request = { taskKey: ref.name, queue: this.queueOf(ref), scheduleName, schedule };
    const problem = scheduleProblem(request);
    if (problem) throw new ConfigurationError(problem);
    const row = payload === undefined ? null : await this.prepareInvoke(ref, payload);
    await this.ensureInstalled();
    return writeSchedule(options.sql ?? this.sql, request, row ? row.payload : null);
  }

  /** Removes a dynamic schedule and cancels its run that has not started; false when there was none. */
  async unschedule<K extends keyof Tasks & string>(ref: TaskReference<K>, scheduleName: string, options: TransactionOptions = {}): Promise<boolean> {
    this.assertKnownTask(ref?.name);
    await this.ensureInstalled();
    return deleteSchedule(options.sql ?? this.sql, ref.name, scheduleName);
  }

  /**
   * Cancels an execution: a pending one never runs, a running one stops at its next step or checkpoint.
   * `cancel({ name, queue? }, dedupeKey)` cancels the unfinished execution invoked with that key.
   * False when there is nothing unfinished to cancel.
   */
  cancel(executionId: string, options?: { reason?: string }): Promise<boolean>;
  cancel<K extends keyof Tasks & string>(ref: TaskReference<K>, dedupeKey: string, options?: { reason?: string }): Promise<boolean>;
  async cancel(target: string | TaskReference, second?: string | { reason?: string }, third?: { reason?: string }): Promise<boolean> {
    const reason = checkCancelArguments(target, second, third);
    await this.ensureInstalled();
    if (typeof target === "string") return cancelExecution(this.sql, target, reason);
    this.assertKnownTask(target?.name);
    if (typeof second !== "string" || second.length === 0) {
      throw new ConfigurationError(`cancel("${target.name}"): a dedupe key (non-empty string) is required after the task reference`);
    }
    const id = await findUnfinishedByDedupeKey(this.sql, target.name, this.queueOf(target), second);
    return id === null ? false : cancelExecution(this.sql, id, reason);
  }

  /**
   * Execution events (created, started, completed, failed, retrying, released, cancelled) pushed on
   * commit; with `pauses: true` pause and resume events too. One LISTEN connection per Conductor.
   */
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
    return defineWorker(options);
  }

  /** Ends the connection pool the Conductor opened itself (a `sql` you passed in is left open). */
  async close(): Promise<void> {
    await this.observability.close();
    if (this.ownsSql) await this.sql.end({ timeout: 5 });
  }

  private queueOf(ref: TaskReference): string {
    return ref.queue ?? this.tasks.get(ref.name)?.queue ?? DEFAULT_QUEUE;
  }

  private assertKnownTask(name: string): void {
    assertKnownTask(this.taskSchemas, name);
  }
}
