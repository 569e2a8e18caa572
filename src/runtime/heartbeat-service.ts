/**
 * Keeps the orchestrator's lease: every `intervalMs` it renews its record. The answer also carries
 * what the orchestrator must act on: running executions that were cancelled (abort their ctx.signal)
 * and whether to stop (asked to by a breaking migration, or the record is gone: the lease was lost).
 */
import { interval, Subscription, type Observable } from "rxjs";
import { heartbeat } from "../db/orchestrators";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../model/defaults";
import { coalesceRuns } from "./coalesce";
import type { OrchestratorService, ServiceContext } from "./service";

export interface HeartbeatOptions {
  /** How often the lease is renewed (default 5 000 ms). */
  intervalMs?: number;
  /** A running execution of this orchestrator was cancelled. */
  onCancelled(executionId: string): void;
  /** The record asks this orchestrator to stop (or is gone). */
  onStopRequested(): void;
  /** Ticks instead of the interval (tests). */
  ticks$?: Observable<unknown>;
  /** The database call (tests pass a stand-in). */
  beat?: typeof heartbeat;
}

export class HeartbeatService implements OrchestratorService {
  readonly name = "heartbeat";
  private subscription: Subscription | null = null;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HeartbeatOptions) {}

  start(context: ServiceContext): void {
    const ticks$ = this.options.ticks$ ?? interval(this.options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
    const beat = this.options.beat ?? heartbeat;
    const once = async () => {
      const { stop, cancelledIds } = await beat(context.sql, context.orchestratorId);
      cancelledIds.forEach((id) => this.options.onCancelled(id));
      if (stop) this.options.onStopRequested();
    };
    this.subscription = ticks$
      .pipe(
        coalesceRuns(
          () => (this.inFlight = once()),
          (error) => context.logger.warn("heartbeat failed", { orchestrator: context.orchestratorId, error }),
        ),
      )
      .subscribe();
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.inFlight.catch(() => {});
  }
}
