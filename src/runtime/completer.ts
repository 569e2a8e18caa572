/**
 * The completer of one worker: writes outcomes in batches (one statement per kind present) and,
 * once a batch is committed, does what must follow the write: removes the executions whose task
 * drops them at once, and frees the slots of limited tasks (claiming again here if this worker has
 * room, else waking the queue's other workers).
 */
import { Subject, Subscription, type Observable } from "rxjs";
import type { Logger } from "../model/logger";
import { batchWhileBusy } from "./batch-while-busy";
import type { Outcome } from "./run-execution";
import type { TaskControls } from "./task-controls";
import type { WorkerOps } from "./worker-ops";

export interface CompleterDeps {
  ops: Pick<WorkerOps, "writeOutcomes" | "removeFinished" | "wakeQueue">;
  queue: string;
  controls: TaskControls;
  flushIntervalMs: number;
  logger: Logger;
  /** Whether this worker will claim again now (not stopping, a slot free). */
  canClaim: () => boolean;
  /** Claim again: a limited task's slot was freed here. */
  claimAgain: () => void;
}

/** Most outcomes in one write. */
const MAX_BATCH = 1000;

type Written = Outcome & { taskKey: string };

export class Completer {
  private readonly outcomes$ = new Subject<Written>();
  private readonly written$ = new Subject<void>();
  private readonly subscription = new Subscription();
  private pending = 0;
  /** Executions whose outcome is queued or being written (still held by this orchestrator). */
  private readonly unwrittenIds = new Set<string>();

  constructor(private readonly deps: CompleterDeps) {}

  start(): void {
    const { ops, logger, queue } = this.deps;
    this.subscription.add(
      this.outcomes$
        .pipe(
          batchWhileBusy((batch) => ops.writeOutcomes(batch).then(() => {
            batch.forEach((outcome) => this.unwrittenIds.delete(outcome.id));
            void this.afterWrite(batch);
          }), {
            maxBatch: MAX_BATCH,
            maxWaitMs: this.deps.flushIntervalMs,
            onError: (error) => logger.error("writing results failed; retrying", { queue, error }),
          }),
        )
        .subscribe((written) => {
          this.pending -= written;
          this.written$.next();
        }),
    );
  }

  /** Queues an outcome to write; a suspended execution has nothing to write but may free a limited slot. */
  add(outcome: Outcome, taskKey: string): void {
    if (outcome.kind === "suspended") {
      if (this.deps.controls.isLimited(taskKey)) {
        this.slotFreed([taskKey]).catch((error) => this.deps.logger.warn("waking the queue failed", { queue: this.deps.queue, error }));
      }
      return;
    }
    this.pending += 1;
    this.unwrittenIds.add(outcome.id);
    this.outcomes$.next({ ...outcome, taskKey });
  }

  /** Outcomes queued and not yet written. */
  get unwritten(): number {
    return this.pending;
  }

  /** Ids of the outcomes queued and not yet written. */
  heldIds(): string[] {
    return [...this.unwrittenIds];
  }

  /** Emits after each batch is written. */
  get written(): Observable<void> {
    return this.written$.asObservable();
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private async afterWrite(batch: readonly Written[]): Promise<void> {
    const { controls } = this.deps;
    if (!controls.hasLimits && !controls.removesAtOnce) return;
    try {
      const remove = controls.removeAtOnce(batch);
      if (remove.completed.length || remove.failed.length) await this.deps.ops.removeFinished(remove.completed, remove.failed);
      const freed = [...new Set(batch.map((o) => o.taskKey).filter((key) => controls.isLimited(key)))];
      if (freed.length) await this.slotFreed(freed);
    } catch (error) {
      this.deps.logger.warn("after-write duties failed (the sweep catches up)", { queue: this.deps.queue, error });
    }
  }

  /**
   * A limited task's slot is free (its execution's end is committed). This worker claims again if it
   * has room; only when it has none (or is stopping) are the other workers of the queue woken, so a
   * busy limited task does not cost a NOTIFY per finished execution.
   */
  private async slotFreed(taskKeys: string[]): Promise<void> {
    if (this.deps.canClaim()) {
      this.deps.claimAgain();
      return;
    }
    await this.deps.ops.wakeQueue(this.deps.queue, taskKeys);
  }
}
