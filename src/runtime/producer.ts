/**
 * The producer of one worker: turns wake-ups into claims and hands each claimed execution on. A
 * claim takes the free slots plus, when the worker is busy with fast work, a short stretch ahead
 * (claim-ahead: what its slots finish in `claimAheadMs` at the handlers' recent duration,
 * see claim-ahead.ts), so a slot that frees finds its next execution in the worker's buffer
 * instead of waiting a round trip. Limited tasks only ever fill free slots (a buffered execution of
 * a limited task would block that task's slot for every other worker): the part ahead is a second
 * claim, of the unlimited tasks only.
 * Its state is one ProducerMode (producer-mode.ts); the only other thing it counts is what it has
 * reserved (claimed executions, running or buffered, whose outcome is not yet known).
 */
import { Subject, Subscription } from "rxjs";
import type { ClaimedExecution } from "../db/claim";
import { coalesceRuns, collapseToNextTurn } from "./coalesce";
import { initialMode, transition, triesLimited, wantsMore, type ProducerEvent, type ProducerMode } from "./producer-mode";
import type { ClaimableKeys, TaskControls } from "./task-controls";
import type { WorkerOps } from "./worker-ops";
import { CLAIM_ANSWER_TIMEOUT_MS, CLAIM_RETRY_MS } from "../model/defaults";
import { claimAhead, HandlerDurations, shouldRefill } from "./claim-ahead";

export interface ProducerDeps {
  ops: Pick<WorkerOps, "claim" | "claimLimited">;
  queue: string;
  controls: TaskControls;
  concurrency: number;
  /** Most executions one claim takes and the worker holds (running and buffered). */
  fetchBatchSize: number;
  /** Claim ahead this long of recent work (0: only free slots). */
  claimAheadMs?: number;
  /** Each claimed execution, in claim order. */
  onClaimed: (execution: ClaimedExecution) => void;
  /** A window opens at this epoch ms: wake then. */
  onWindowOpening: (at: number) => void;
  /** The number of reserved slots went down (the worker may be idle now). */
  onReleased: () => void;
  onError: (error: unknown) => void;
  /** After a failed claim, the next try (default CLAIM_RETRY_MS). */
  claimRetryMs?: number;
  /** A claim not answered in this long has failed (default CLAIM_ANSWER_TIMEOUT_MS). */
  claimAnswerTimeoutMs?: number;
}

export class Producer {
  private mode: ProducerMode = initialMode;
  private reserved = 0;
  private readonly wake$ = new Subject<void>();
  private readonly freed$ = new Subject<void>();
  private readonly subscription = new Subscription();
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly durations = new HandlerDurations();

  constructor(private readonly deps: ProducerDeps) {}

  start(): void {
    this.subscription.add(this.wake$.pipe(coalesceRuns(() => this.claim(), this.deps.onError)).subscribe());
    this.subscription.add(this.freed$.pipe(collapseToNextTurn()).subscribe(() => this.wake$.next()));
    this.wake$.next();
  }

  /** Something outside the claim loop may have made work runnable. */
  signal(): void {
    this.apply({ type: "signal" });
    this.wake$.next();
  }

  /** An execution handed on by onClaimed has settled: its slot is free. `ranMs`: its handler's time (null: it did not start). */
  release(ranMs: number | null = null): void {
    this.reserved -= 1;
    if (ranMs !== null) this.durations.record(ranMs);
    if (wantsMore(this.mode)) this.freed$.next();
    this.deps.onReleased();
  }

  stop(): void {
    this.apply({ type: "stop" });
  }

  /**
   * A slot for an execution written already claimed (the local fast path, local-dispatch.ts), or
   * false. Only while waiting: the last claim found nothing runnable and nothing woke the producer
   * since, so the new execution jumps ahead of nobody. Settles through release() like a claimed one.
   */
  reserveLocal(): boolean {
    if (this.mode.name !== "waiting" || this.reserved >= this.deps.concurrency) return false;
    this.reserved += 1;
    return true;
  }

  /** Ends the wake-up pipelines (after stop, once nothing is reserved). */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.subscription.unsubscribe();
  }

  get stopped(): boolean {
    return this.mode.name === "stopped";
  }

  /** Claimed executions whose outcome is not yet known. */
  get running(): number {
    return this.reserved;
  }

  get hasRoom(): boolean {
    return this.reserved < this.deps.concurrency;
  }

  get currentMode(): ProducerMode {
    return this.mode;
  }

  /** One pending retry at a time; any claim that runs meanwhile makes it harmless (coalesced). */
  private retryLater(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.wake$.next();
    }, this.deps.claimRetryMs ?? CLAIM_RETRY_MS);
    this.retry.unref?.();
  }

  /** The claim's answer, or a failure once it is overdue; an answer that comes later is dropped. */
  private answered(claim: Promise<ClaimedExecution[]>): Promise<ClaimedExecution[]> {
    const ms = this.deps.claimAnswerTimeoutMs ?? CLAIM_ANSWER_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a claim on queue "${this.deps.queue}" was not answered within ${ms} ms; claiming again`)), ms);
      timer.unref?.();
    });
    claim.catch(() => {}); // a late failure of the abandoned claim is not an error of anyone's
    return Promise.race([claim, overdue]).finally(() => clearTimeout(timer));
  }

  /** Executions to claim beyond the free slots now. */
  private aheadAllowance(): number {
    const { concurrency, fetchBatchSize, claimAheadMs = 0 } = this.deps;
    if (claimAheadMs === 0) return 0;
    return claimAhead(this.durations.average, concurrency, claimAheadMs, fetchBatchSize - concurrency);
  }

  private apply(event: ProducerEvent): void {
    this.mode = transition(this.mode, event);
  }

  private async claim(): Promise<number> {
    const { controls, queue, concurrency, fetchBatchSize } = this.deps;
    if (this.mode.name !== "due") return 0;
    const keys = controls.claimable();
    const ahead = keys.unlimited.length > 0 ? this.aheadAllowance() : 0;
    if (!shouldRefill(this.reserved, concurrency, ahead)) return 0;
    const limit = Math.min(concurrency + ahead - this.reserved, fetchBatchSize);
    // Limited tasks only fill free slots: buffered, a limited execution would hold its task's slot
    // from every other worker. What is claimed ahead comes from the unlimited tasks.
    const slots = keys.limited.length === 0 ? limit : Math.min(limit, Math.max(0, concurrency - this.reserved));
    const tryLimited = triesLimited(this.mode);
    this.apply({ type: "claimStarted" });
    const limited = tryLimited && slots > 0 ? keys.limited : [];
    if (keys.nextOpeningAt !== null) this.deps.onWindowOpening(keys.nextOpeningAt);
    if (keys.unlimited.length === 0 && keys.limited.length === 0) {
      this.apply({ type: "claimEnded", full: false, limitedFound: null });
      return 0;
    }
    this.reserved += limit;
    let claimed: ClaimedExecution[];
    try {
      claimed = await this.answered(this.claimSlots(keys, limited, slots));
    } catch (error) {
      this.reserved -= limit;
      this.apply({ type: "claimFailed" });
      this.retryLater();
      throw error;
    }
    // Handed on (so held, and named by the heartbeat) before the part ahead is asked for.
    for (const execution of claimed) this.deps.onClaimed(execution);
    let got = claimed.length;
    if (limit > slots && claimed.length === slots) {
      const ahead = await this.claimAheadOf(keys.unlimited, limit - slots);
      for (const execution of ahead) this.deps.onClaimed(execution);
      got += ahead.length;
    }
    this.reserved -= limit - got;
    const limitedFound = limited.length > 0 ? claimed.some((execution) => controls.isLimited(execution.task_key)) : null;
    this.apply({ type: "claimEnded", full: got === limit, limitedFound });
    if (this.mode.name === "due") this.wake$.next();
    else this.deps.onReleased();
    return got;
  }

  /** The free slots: one plain claim, or limited tasks first (within their limits), then the rest. */
  private claimSlots(keys: ClaimableKeys, limited: readonly string[], slots: number): Promise<ClaimedExecution[]> {
    const { ops, queue, controls } = this.deps;
    if (slots === 0) return Promise.resolve([]);
    if (keys.limited.length === 0) return ops.claim(queue, keys.unlimited, slots);
    return ops.claimLimited(queue, keys.unlimited, controls.limitsOf(limited), slots);
  }

  /**
   * The part ahead of a worker with limited tasks, a second statement. Its failure does not lose
   * what the first one claimed: it is reported, and the next wake-up claims again.
   */
  private async claimAheadOf(unlimited: readonly string[], count: number): Promise<ClaimedExecution[]> {
    try {
      return await this.answered(this.deps.ops.claim(this.deps.queue, unlimited, count));
    } catch (error) {
      this.deps.onError(error);
      return [];
    }
  }
}
