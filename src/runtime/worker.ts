/**
 * A worker runs the tasks of one queue. It assembles three parts: wake-ups (NOTIFY, the due timer,
 * the sweep, a LISTEN reconnect, a resume) feed the producer (producer.ts), which claims the free
 * slots and, for fast work, some ahead; claimed executions wait in this worker's buffer (claim
 * order, so priority order) and run with bounded concurrency; their outcomes go to the completer
 * (completer.ts), which writes them in batches. A buffered execution has not started: on stop, or
 * when its task is paused or outside its window by the time a slot frees, it is released (its
 * attempt is not counted) instead of run.
 */
import { filter, firstValueFrom, map, merge, Subject, Subscription, type Observable, share } from "rxjs";
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";
import type { Task } from "../model/task";
import type { ClaimedExecution } from "../db/claim";
import { dueTimer } from "../streams/due-timer";
import { runExecution, failure, type Outcome } from "./run-execution";
import type { ExecutionControl } from "./task-context";
import type { ResolvedWorkerConfig } from "../model/worker-config";
import { TaskControls } from "./task-controls";
import { BatchRunner } from "./batch-runner";
import type { PauseState } from "./pause-state";
import { withTimeout } from "./attempt-timeout";
import { flowSettingsOf } from "../model/flow-settings";
import { traceAttempt } from "./telemetry/traced-attempt";
import { Producer } from "./producer";
import { Completer } from "./completer";
import { sqlWorkerOps, type WorkerOps } from "./worker-ops";
import { notificationTiming, type DatabaseClock } from "./db-clock";
import { sweepTicks } from "./sweep-ticks";
import { StopGrace } from "./stop-grace";
import { OnDemandAbortController, type Abortable } from "./on-demand-abort";
import type { LocalSlot } from "./local-dispatch";

export interface WorkerSources {
  /** Work notifications of every queue: `{ queue, runAt }`. */
  work$: Observable<{ queue: string; runAt: number }>;
  /** Emits whenever the LISTEN connection (re)starts listening. */
  listening$: Observable<unknown>;
  /** The database's time: notifications' run_at are database times (default: this process's clock). */
  clock?: DatabaseClock;
  /** True while push does not deliver: the sweep runs every `degradedPollIntervalMs` meanwhile. */
  pushDegraded$?: Observable<boolean>;
  degradedPollIntervalMs?: number;
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
  /** The database operations; default the real ones over `sql`. */
  ops?: WorkerOps;
}

export class Worker {
  private readonly tasksByName: Map<string, Task>;
  private readonly taskKeys: string[];
  private readonly controllers = new Map<string, OnDemandAbortController>();
  private readonly grace = new StopGrace();
  private readonly candidates$ = new Subject<number>();
  /** Claimed, not yet started, in claim order. */
  private readonly buffered: ClaimedExecution[] = [];
  private runningCount = 0;
  private readonly idle$ = new Subject<void>();
  private readonly subscription = new Subscription();
  /** Windows, concurrency limits, batching and immediate removal of this worker's tasks. */
  private readonly controls: TaskControls;
  private readonly batchRunners = new Map<string, BatchRunner>();
  private readonly ops: WorkerOps;
  private readonly producer: Producer;
  private readonly completer: Completer;

  constructor(
    readonly queue: string,
    tasks: readonly Task[],
    readonly config: ResolvedWorkerConfig,
    private readonly deps: WorkerDeps,
  ) {
    this.tasksByName = new Map(tasks.map((task) => [task.name, task]));
    this.taskKeys = [...this.tasksByName.keys()];
    this.controls = new TaskControls(tasks, deps.clock, deps.pauses);
    this.ops = deps.ops ?? sqlWorkerOps(deps.sql, deps.orchestratorId);
    this.producer = new Producer({
      ops: this.ops,
      queue,
      controls: this.controls,
      concurrency: config.concurrency,
      fetchBatchSize: config.fetchBatchSize,
      claimAheadMs: config.claimAheadMs,
      onClaimed: (execution) => {
        this.buffered.push(execution);
        this.startBuffered();
      },
      onWindowOpening: (at) => this.candidates$.next(at),
      onReleased: () => this.checkIdle(),
      onError: (error) => deps.logger.error("claim failed", { queue, error }),
    });
    this.completer = new Completer({
      ops: this.ops,
      queue,
      controls: this.controls,
      flushIntervalMs: config.flushIntervalMs,
      logger: deps.logger,
      canClaim: () => !this.producer.stopped && this.producer.hasRoom,
      claimAgain: () => this.producer.signal(),
    });
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
    // run_at is a database time: judged by the database's clock, timers armed on the local one.
    const timing = notificationTiming(sources.clock);
    // Due or future is decided once per notification: two separate clock reads could straddle a
    // millisecond and call it neither, dropping the wake-up (the execution then waits for the sweep).
    const mine$ = sources.work$.pipe(
      filter((n) => n.queue === this.queue),
      map((n) => timing.judge(n.runAt)),
      share(),
    );
    const sweep$ = sweepTicks(this.config.pollIntervalMs, sources.pushDegraded$, sources.degradedPollIntervalMs);
    const due$ = dueTimer(this.candidates$).pipe(share());
    // A notification names only the earliest run_at of its statement, so whenever the timer fires
    // we look up the next one too (as after a reconnect or a sweep).
    const refresh$ = merge(sources.listening$, sweep$, due$);

    this.completer.start();
    this.subscription.add(this.completer.written.subscribe(() => this.checkIdle()));
    // Anything that may have made work runnable now.
    this.subscription.add(merge(mine$.pipe(filter((n) => n.due)), refresh$).subscribe(() => this.producer.signal()));
    // Future work arms the timer: from notifications, and from the table after a (re)connect or sweep.
    this.subscription.add(mine$.pipe(filter((n) => n.future)).subscribe((n) => this.candidates$.next(dueAfter(timing.timerAt(n.runAt)))));
    this.subscription.add(
      refresh$.subscribe(() => {
        this.ops
          .nextRunAt(this.queue, this.taskKeys)
          .then((at) => at && this.candidates$.next(dueAfter(timing.timerAt(at.getTime()))))
          .catch((error) => logger.warn("next run_at lookup failed", { queue: this.queue, error }));
      }),
    );
    // A resume (or any change) may make waiting work claimable: claim at once.
    if (this.deps.pauses) {
      this.subscription.add(this.deps.pauses.changes$.pipe(filter((change) => !change.paused)).subscribe(() => this.producer.signal()));
    }
    this.producer.start();
  }

  /**
   * Claims nothing more; resolves when every running handler has ended or been released and every
   * result is written. Handlers still running after `graceMs` are released without waiting for them.
   */
  async stop(graceMs = Infinity): Promise<void> {
    this.producer.stop();
    this.releaseBuffered();
    for (const runner of this.batchRunners.values()) runner.stop();
    const disarm = this.grace.arm(graceMs, this.deps.logger, this.queue);
    try {
      while (!this.isIdle()) await firstValueFrom(this.idle$);
    } finally {
      disarm();
    }
    this.subscription.unsubscribe();
    this.producer.close();
    this.completer.close();
  }

  /** The tasks whose executions may be claimed now (all but those outside their time window). */
  claimableTaskKeys(): string[] {
    const keys = this.controls.claimable();
    return [...keys.unlimited, ...keys.limited];
  }

  isIdle(): boolean {
    return this.producer.running === 0 && this.completer.unwritten === 0;
  }

  /** Emits whenever the worker has nothing running and nothing left to write. */
  get idle(): Observable<void> {
    return this.idle$.asObservable();
  }

  /**
   * Ids of the executions this worker holds: running (from the claim's answer on; run() registers
   * synchronously) or with an outcome not yet written. The heartbeat names them (issue 11, item 1).
   */
  heldIds(): string[] {
    return [...this.controllers.keys(), ...this.buffered.map((execution) => execution.id), ...this.completer.heldIds()];
  }

  /** A slot for a new execution of this task written already claimed (local-dispatch.ts), or null. */
  reserveLocal(taskKey: string): LocalSlot | null {
    // claimable().unlimited: this worker's tasks without limits whose window is open and that are not paused.
    if (this.controls.isBatch(taskKey) || !this.controls.claimable().unlimited.includes(taskKey)) return null;
    if (!this.producer.reserveLocal()) return null;
    let settled = false;
    return {
      orchestratorId: this.deps.orchestratorId,
      start: (execution) => {
        if (settled) return;
        settled = true;
        // At the front: a slot was reserved for it, and claims only ever fill the others.
        this.buffered.unshift(execution);
        this.startBuffered();
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        this.producer.release(null);
      },
    };
  }

  /** Aborts ctx.signal of a running execution (cancel); returns whether it is held here. */
  abort(executionId: string, reason: string): boolean {
    const waiting = this.buffered.find((execution) => execution.id === executionId);
    if (waiting) {
      // Not started yet: it starts as cancelled (run-execution.ts) when its turn comes.
      waiting.cancel_requested = true;
      return true;
    }
    const controller = this.controllers.get(executionId);
    controller?.abort(reason);
    return controller !== undefined;
  }

  /** Starts buffered executions while slots are free. */
  private startBuffered(): void {
    while (this.runningCount < this.config.concurrency && this.buffered.length > 0) {
      const execution = this.buffered.shift()!;
      if (this.producer.stopped || !this.controls.mayStart(execution.task_key)) {
        this.settle({ kind: "release", id: execution.id }, execution.task_key);
        continue;
      }
      this.runningCount += 1;
      const startedAt = performance.now();
      this.run(execution)
        .catch((error): { outcome: Outcome; taskKey: string } => {
          this.deps.logger.error("running an execution failed", { queue: this.queue, execution: execution.id, error });
          return { outcome: { kind: "release", id: execution.id }, taskKey: execution.task_key };
        })
        .then(({ outcome, taskKey }) => {
          this.runningCount -= 1;
          this.settle(outcome, taskKey, performance.now() - startedAt);
          this.startBuffered();
        });
    }
  }

  /** Stopping: what has not started goes back to the queue now, not after the running handlers. */
  private releaseBuffered(): void {
    for (const execution of this.buffered.splice(0)) this.settle({ kind: "release", id: execution.id }, execution.task_key);
  }

  private async run(execution: ClaimedExecution): Promise<{ outcome: Outcome; taskKey: string }> {
    const task = this.tasksByName.get(execution.task_key)!;
    const controller = new OnDemandAbortController();
    this.controllers.set(execution.id, controller);
    const control: ExecutionControl = {
      executionId: execution.id,
      stored: new Map(Object.entries(execution.steps ?? {})),
      cancellation: controller,
      shouldRelease: () => this.producer.stopped || this.controls.shouldPause(task.name),
      suspended: false,
    };
    try {
      // Past the stop timeout the handler is not awaited further (stop-grace.ts).
      const attempt = traceAttempt(execution, task, () => this.attempt(execution, task, control, controller));
      return { outcome: await Promise.race([attempt, this.grace.forced(execution.id, controller)]), taskKey: task.name };
    } finally {
      this.controllers.delete(execution.id);
      this.grace.done(execution.id);
    }
  }

  private attempt(execution: ClaimedExecution, task: Task, control: ExecutionControl, controller: Abortable): Promise<Outcome> {
    const batchRunner = this.batchRunners.get(task.name);
    if (batchRunner) return batchRunner.run(execution, control);
    const attempt = runExecution(execution, task, control, (c) => this.deps.makeContext(task, execution, c));
    const timeoutMs = flowSettingsOf(task).timeoutMs;
    if (timeoutMs === null) return attempt;
    return withTimeout(attempt, { taskName: task.name, ms: timeoutMs, controller }, (error) => failure(execution, task, error));
  }

  /** `ranMs`: how long it ran here (null: released before it started). */
  private settle(outcome: Outcome, taskKey: string, ranMs: number | null = null): void {
    if (outcome.kind === "fail") {
      this.deps.logger.warn("execution failed", { queue: this.queue, execution: outcome.id, error: outcome.error });
    }
    // Queued before the slot is freed, so the worker is never seen idle with an outcome unwritten.
    this.completer.add(outcome, taskKey);
    this.producer.release(ranMs);
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
