/**
 * A worker runs the tasks of one queue. Wake-ups (NOTIFY, the due timer, the sweep, a freed slot,
 * a LISTEN reconnect) are merged and coalesced into claims of at most the free slots; claimed
 * executions run with bounded concurrency; outcomes are written in batches.
 */
import { filter, firstValueFrom, interval, merge, mergeMap, Subject, Subscription, tap, type Observable, share } from "rxjs";
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";
import type { Task } from "../model/task";
import { claimExecutions, nextRunAt, type ClaimedExecution } from "../db/claim";
import { dueTimer } from "../streams/due-timer";
import { batchWhileBusy } from "./batch-while-busy";
import { coalesceRuns } from "./coalesce";
import { runExecution, type Outcome } from "./run-execution";
import type { ExecutionControl } from "./task-context";
import type { ResolvedWorkerConfig } from "../model/worker-config";
import { writeOutcomes } from "./write-outcomes";
import { TaskControls } from "./task-controls";
import { BatchRunner } from "./batch-runner";
import { wakeQueue } from "../db/claim";
import { removeFinished } from "../db/outcomes";
import { claimLimited } from "../db/flow-control";
import type { PauseState } from "./pause-state";
import { withTimeout } from "./attempt-timeout";
import { failure } from "./run-execution";
import { flowSettingsOf } from "../model/flow-settings";
import { traceAttempt } from "./telemetry/traced-attempt";

export interface WorkerSources {
  /** Work notifications of every queue: `{ queue, runAt }`. */
  work$: Observable<{ queue: string; runAt: number }>;
  /** Emits whenever the LISTEN connection (re)starts listening. */
  listening$: Observable<unknown>;
}

export interface WorkerDeps {
  sql: Sql;
  orchestratorId: string;
  logger: Logger;
  makeContext: (task: Task, execution: ClaimedExecution, control: ExecutionControl) => object;
  /** ctx of a batch handler: `{ logger, signal, ...context }`. */
  makeBatchContext?: (task: Task, signal: AbortSignal) => object;
  /** Time for task windows (injectable for tests); default the system clock. */
  clock?: () => Date;
  /** Paused queues and tasks (kept current by the orchestrator); none when absent. */
  pauses?: PauseState;
}

export class Worker {
  private readonly tasksByName: Map<string, Task>;
  private readonly taskKeys: string[];
  private readonly controllers = new Map<string, AbortController>();
  private readonly wake$ = new Subject<void>();
  private readonly candidates$ = new Subject<number>();
  private readonly claimed$ = new Subject<ClaimedExecution>();
  private readonly outcomes$ = new Subject<Outcome>();
  private readonly idle$ = new Subject<void>();
  private readonly subscription = new Subscription();
  /** Slots taken by claimed executions whose outcome is not yet known. */
  private reserved = 0;
  /** Outcomes handed to the writer and not yet written. */
  private unwritten = 0;
  /** A wake-up from outside (notification, timer, sweep) arrived since the last claim started. */
  private signalled = true;
  /** The last claim filled every slot it asked for, so more may be waiting. */
  private lastClaimFull = false;
  /** A wake-up for freed slots is already scheduled for the end of this turn. */
  private wakeScheduled = false;
  /** The last claim that tried the limited tasks got none of them (see claim()). */
  private limitedQuiet = false;
  private stopping = false;
  /** Windows, concurrency limits, batching and immediate removal of this worker's tasks. */
  private readonly controls: TaskControls;
  private readonly batchRunners = new Map<string, BatchRunner>();
  /** Task of each execution between claim and written outcome. */
  private readonly taskOfExecution = new Map<string, string>();

  constructor(
    readonly queue: string,
    tasks: readonly Task[],
    readonly config: ResolvedWorkerConfig,
    private readonly deps: WorkerDeps,
  ) {
    this.tasksByName = new Map(tasks.map((task) => [task.name, task]));
    this.taskKeys = [...this.tasksByName.keys()];
    this.controls = new TaskControls(tasks, deps.clock, deps.pauses);
  }

  get tasks(): Task[] {
    return [...this.tasksByName.values()];
  }

  start(sources: WorkerSources): void {
    const { logger } = this.deps;
    for (const task of this.tasksByName.values()) {
      const batch = this.controls.settingsFor(task.name)?.batch;
      if (!batch) continue;
      const makeBatchContext = this.deps.makeBatchContext ?? ((_task: Task, signal: AbortSignal) => ({ logger, signal }));
      const runner = new BatchRunner(task, { ...batch, concurrency: this.config.concurrency }, (signal) => makeBatchContext(task, signal), logger);
      this.batchRunners.set(task.name, runner);
    }
    const mine$ = sources.work$.pipe(filter((n) => n.queue === this.queue));
    const sweep$ = interval(this.config.pollIntervalMs);
    const due$ = dueTimer(this.candidates$).pipe(share());
    // A notification names only the earliest run_at of its statement, so whenever the timer fires
    // we look up the next one too (as after a reconnect or a sweep).
    const refresh$ = merge(sources.listening$, sweep$, due$);

    // Anything that may have made work runnable now.
    const external$ = merge(mine$.pipe(filter((n) => n.runAt <= Date.now())), refresh$).pipe(
      tap(() => (this.signalled = true)),
    );
    this.subscription.add(
      merge(external$, this.wake$)
        .pipe(
          coalesceRuns(() => this.claim(), (error) => logger.error("claim failed", { queue: this.queue, error })),
        )
        .subscribe(),
    );
    // Future work arms the timer: from notifications, and from the table after a (re)connect or sweep.
    this.subscription.add(mine$.pipe(filter((n) => n.runAt > Date.now())).subscribe((n) => this.candidates$.next(dueAfter(n.runAt))));
    this.subscription.add(
      refresh$.subscribe(() => {
        nextRunAt(this.deps.sql, this.queue, this.taskKeys)
          .then((at) => at && this.candidates$.next(dueAfter(at.getTime())))
          .catch((error) => logger.warn("next run_at lookup failed", { queue: this.queue, error }));
      }),
    );
    this.subscription.add(
      this.claimed$
        .pipe(mergeMap((execution) => this.run(execution), this.config.concurrency))
        .subscribe((outcome) => this.settle(outcome)),
    );
    this.subscription.add(
      this.outcomes$
        .pipe(
          batchWhileBusy((batch) => writeOutcomes(this.deps.sql, batch).then(() => void this.afterWrite(batch)), {
            maxBatch: 1000,
            maxWaitMs: this.config.flushIntervalMs,
            onError: (error) => logger.error("writing results failed; retrying", { queue: this.queue, error }),
          }),
        )
        .subscribe((written) => {
          this.unwritten -= written;
          this.checkIdle();
        }),
    );
    // A resume (or any change) may make waiting work claimable: claim at once.
    if (this.deps.pauses) {
      this.subscription.add(this.deps.pauses.changes$.pipe(filter((change) => !change.paused)).subscribe(() => {
        this.signalled = true;
        this.wake$.next();
      }));
    }
    this.wake$.next();
  }

  /** Claims nothing more; resolves when every running handler has ended or been released and every result is written. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const runner of this.batchRunners.values()) runner.stop();
    while (!this.isIdle()) await firstValueFrom(this.idle$);
    this.subscription.unsubscribe();
  }

  /** The tasks whose executions may be claimed now (all but those outside their time window). */
  claimableTaskKeys(): string[] {
    const keys = this.controls.claimable();
    return [...keys.unlimited, ...keys.limited];
  }

  isIdle(): boolean {
    return this.reserved === 0 && this.unwritten === 0;
  }

  /** Emits whenever the worker has nothing running and nothing left to write. */
  get idle(): Observable<void> {
    return this.idle$.asObservable();
  }

  /** Aborts ctx.signal of a running execution (cancel); returns whether it runs here. */
  abort(executionId: string, reason: string): boolean {
    const controller = this.controllers.get(executionId);
    controller?.abort(reason);
    return controller !== undefined;
  }

  private async claim(): Promise<number> {
    if (this.stopping || !(this.signalled || this.lastClaimFull)) return 0;
    const free = this.config.concurrency - this.reserved;
    if (free <= 0) return 0;
    const limit = Math.min(free, this.config.fetchBatchSize);
    const external = this.signalled;
    this.signalled = false;
    const keys = this.controls.claimable();
    // Limited tasks found with no claimable work stay so until something happens outside this
    // claim loop (a notification, the timer, the sweep, a slot freed here): until then, re-claims
    // skip counting their running executions.
    const limited = this.limitedQuiet && !external ? [] : keys.limited;
    if (keys.nextOpeningAt !== null) this.candidates$.next(keys.nextOpeningAt);
    if (keys.unlimited.length === 0 && keys.limited.length === 0) {
      this.lastClaimFull = false;
      return 0;
    }
    this.reserved += limit;
    let claimed: ClaimedExecution[] = [];
    try {
      claimed =
        keys.limited.length === 0
          ? await claimExecutions(this.deps.sql, this.deps.orchestratorId, this.queue, keys.unlimited, limit)
          : await claimLimited(this.deps.sql, this.deps.orchestratorId, this.queue, keys.unlimited, this.controls.limitsOf(limited), limit);
    } catch (error) {
      this.signalled = true; // the sweep or the next wake-up tries again
      throw error;
    } finally {
      this.reserved -= limit - claimed.length;
    }
    this.lastClaimFull = claimed.length === limit;
    if (limited.length > 0) this.limitedQuiet = !claimed.some((execution) => this.controls.isLimited(execution.task_key));
    for (const execution of claimed) this.taskOfExecution.set(execution.id, execution.task_key);
    for (const execution of claimed) this.claimed$.next(execution);
    if (this.lastClaimFull) this.wake$.next();
    else this.checkIdle();
    return claimed.length;
  }

  private run(execution: ClaimedExecution): Promise<Outcome> {
    const task = this.tasksByName.get(execution.task_key)!;
    return traceAttempt(execution, task, () => this.attempt(execution, task));
  }

  private async attempt(execution: ClaimedExecution, task: Task): Promise<Outcome> {
    const controller = new AbortController();
    this.controllers.set(execution.id, controller);
    const control: ExecutionControl = {
      executionId: execution.id,
      stored: new Map(Object.entries(execution.steps ?? {})),
      signal: controller.signal,
      shouldRelease: () => this.stopping || this.controls.shouldPause(task.name),
      suspended: false,
    };
    try {
      const batchRunner = this.batchRunners.get(task.name);
      if (batchRunner) return await batchRunner.run(execution, control);
      const attempt = runExecution(execution, task, control, (c) => this.deps.makeContext(task, execution, c));
      const timeoutMs = flowSettingsOf(task).timeoutMs;
      if (timeoutMs === null) return await attempt;
      return await withTimeout(attempt, { taskName: task.name, ms: timeoutMs, controller }, (error) => failure(execution, task, error));
    } finally {
      this.controllers.delete(execution.id);
    }
  }

  private settle(outcome: Outcome): void {
    this.reserved -= 1;
    if (outcome.kind === "fail") {
      this.deps.logger.warn("execution failed", { queue: this.queue, execution: outcome.id, error: outcome.error });
    }
    if (outcome.kind !== "suspended") {
      this.unwritten += 1;
      this.outcomes$.next(outcome);
    } else {
      this.afterSuspend(outcome.id);
    }
    if ((this.signalled || this.lastClaimFull) && !this.stopping) this.wakeAfterSettling();
    this.checkIdle();
  }

  /**
   * Handlers that finish in the same turn free their slots together: wake once after all of them
   * settled, so the next claim fills every free slot instead of going out for one.
   */
  private wakeAfterSettling(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.wake$.next();
    });
  }

  /** A limited task's slot is free again: wake every worker of the queue; remove what goes at once. */
  private async afterWrite(batch: readonly Outcome[]): Promise<void> {
    const withTasks = batch.map((outcome) => ({ ...outcome, taskKey: this.taskOfExecution.get(outcome.id) ?? "" }));
    batch.forEach((outcome) => this.taskOfExecution.delete(outcome.id));
    if (!this.controls.hasLimits && !this.controls.removesAtOnce) return;
    try {
      const remove = this.controls.removeAtOnce(withTasks);
      if (remove.completed.length || remove.failed.length) await removeFinished(this.deps.sql, remove.completed, remove.failed);
      const freed = [...new Set(withTasks.map((o) => o.taskKey).filter((key) => this.controls.isLimited(key)))];
      if (freed.length) await this.slotFreed(freed);
    } catch (error) {
      this.deps.logger.warn("after-write duties failed (the sweep catches up)", { queue: this.queue, error });
    }
  }

  private afterSuspend(executionId: string): void {
    const taskKey = this.taskOfExecution.get(executionId);
    this.taskOfExecution.delete(executionId);
    if (taskKey && this.controls.isLimited(taskKey)) {
      this.slotFreed([taskKey]).catch((error) => this.deps.logger.warn("waking the queue failed", { queue: this.queue, error }));
    }
  }

  /**
   * A limited task's slot is free (its execution's end is committed). This worker claims again if it
   * has room; only when it has none (or is stopping) are the other workers of the queue woken, so a
   * busy limited task does not cost a NOTIFY per finished execution.
   */
  private async slotFreed(taskKeys: string[]): Promise<void> {
    if (!this.stopping && this.reserved < this.config.concurrency) {
      this.signalled = true;
      this.wake$.next();
      return;
    }
    await wakeQueue(this.deps.sql, this.queue, taskKeys);
  }

  private checkIdle(): void {
    if (this.isIdle()) this.idle$.next();
  }
}

/**
 * run_at has microseconds, but notifications and postgres.js Dates carry whole milliseconds
 * (rounded down): a timer armed at that millisecond can fire before the row is due, and the claim
 * then finds nothing. Arming one millisecond later is always at or after the true run_at.
 */
function dueAfter(epochMs: number): number {
  return epochMs + 1;
}
