/**
 * Runs a batch task: claimed executions of the task are grouped (full batch or timeout, whichever
 * first) and the handler gets `(events[], ctx)`. Each execution's outcome comes from the batch: one
 * result per event in order (or none at all), or a failure of every execution in the batch.
 */
import { mergeMap, Subject, type Subscription } from "rxjs";
import type { Logger } from "../model/logger";
import type { Task } from "../model/task";
import type { ClaimedExecution } from "../db/claim";
import { batchWindow } from "./batch-window";
import { failure, type Outcome } from "./run-execution";
import type { ExecutionControl } from "./task-context";

/** The `ctx` of a batch handler: no steps or sleeps, since a batch is not one durable execution. */
export type BatchTaskContext<Context = {}> = Context & {
  logger: Logger;
  /**
   * Aborted when the orchestrator stops: finish early if you can. A batch that then throws is
   * released to run again (the attempt is not counted); one that returns is recorded as usual.
   * A single execution's cancel does not abort it.
   */
  signal: AbortSignal;
};

interface Entry {
  execution: ClaimedExecution;
  control: ExecutionControl;
  resolve: (outcome: Outcome) => void;
}

export class BatchRunner {
  private readonly input$ = new Subject<Entry>();
  private readonly subscription: Subscription;
  private readonly controller = new AbortController();
  private stopped = false;

  constructor(
    private readonly task: Task,
    options: { size: number; timeoutMs: number; concurrency: number },
    private readonly makeContext: (signal: AbortSignal) => object,
    private readonly logger: Logger,
  ) {
    this.subscription = this.input$
      .pipe(
        batchWindow(options.size, options.timeoutMs),
        mergeMap((batch) => this.runBatch(batch), options.concurrency),
      )
      .subscribe();
  }

  /** Resolves with this execution's outcome once its batch has run. */
  run(execution: ClaimedExecution, control: ExecutionControl): Promise<Outcome> {
    if (execution.cancel_requested) return Promise.resolve({ kind: "cancelled", id: execution.id });
    // Claimed while the worker was stopping: hand it back rather than leave it waiting for a batch.
    if (this.stopped) return Promise.resolve({ kind: "release", id: execution.id });
    return new Promise((resolve) => this.input$.next({ execution, control, resolve }));
  }

  /** Runs what is buffered now (its handlers see ctx.signal aborted), then ends. */
  stop(): void {
    this.stopped = true;
    this.controller.abort("stopping");
    this.input$.complete();
  }

  private async runBatch(entries: Entry[]): Promise<void> {
    // An execution cancelled while it waited for its batch does not run.
    const live = entries.filter((entry) => {
      if (!entry.control.cancellation.aborted) return true;
      entry.resolve({ kind: "cancelled", id: entry.execution.id });
      return false;
    });
    if (live.length === 0) return;
    const events = live.map(({ execution }) => ({ name: execution.event_name, payload: execution.payload }));
    try {
      const results = await this.task.handler(events as never, this.makeContext(this.controller.signal));
      if (results === undefined || results === null) {
        live.forEach(({ execution, resolve }) => resolve({ kind: "complete", id: execution.id, result: null }));
        return;
      }
      if (!Array.isArray(results) || results.length !== live.length) {
        const got = Array.isArray(results) ? `an array of ${results.length}` : typeof results;
        throw new Error(
          `Batch task "${this.task.name}" must return nothing or an array with one result per event (${live.length} events, got ${got})`,
        );
      }
      live.forEach(({ execution, resolve }, index) =>
        resolve({ kind: "complete", id: execution.id, result: results[index] === undefined ? null : results[index] }),
      );
    } catch (error) {
      if (this.controller.signal.aborted) {
        live.forEach(({ execution, resolve }) => resolve({ kind: "release", id: execution.id }));
        return;
      }
      const message = error instanceof Error ? error.message || error.name : String(error);
      this.logger.warn("batch failed; every execution in it will retry", { task: this.task.name, size: live.length, error: message });
      live.forEach(({ execution, resolve }) => resolve(failure(execution, this.task, error)));
    }
  }
}
