/**
 * Keeps the orchestrator's lease: every `intervalMs` it renews its record. The answer also carries
 * what the orchestrator must act on: running executions that were cancelled (abort their ctx.signal)
 * and whether to stop (asked to by a breaking migration, or the record is gone: the lease was lost).
 * Each beat also names the executions the orchestrator holds, so the database can release rows it
 * locked through a claim whose reply never arrived (older than `graceMs`, the lease): without that,
 * they would stay `running` for as long as this orchestrator lives.
 */
import { interval, Subscription, type Observable } from "rxjs";
import { heartbeat } from "../db/orchestrators";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEASE_MS } from "../model/defaults";
import { coalesceRuns } from "./coalesce";
import type { OrchestratorService, ServiceContext } from "./service";

export interface HeartbeatOptions {
  /** How often the lease is renewed (default 5 000 ms). */
  intervalMs?: number;
  /** A running execution of this orchestrator was cancelled. */
  onCancelled(executionId: string): void;
  /** The record asks this orchestrator to stop (or is gone). */
  onStopRequested(): void;
  /** Ids of the executions this orchestrator holds now (claimed, outcome not yet written); without it nothing is released. */
  held?: () => readonly string[];
  /** Rows locked by this orchestrator, not held, and claimed longer ago than this are released (default: the lease, 30 000 ms). */
  graceMs?: number;
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
    const graceMs = this.options.graceMs ?? DEFAULT_LEASE_MS;
    const once = async () => {
      // The statement may wait for a connection of a busy pool: the snapshot's own time (on the
      // database's clock, minus what that clock may be off) bounds what it can release, so a claim
      // answered after the snapshot is never taken for a lost one.
      const held = this.options.held ? [...this.options.held()] : null;
      const heldAt = context.clock ? context.clock.now() - context.clock.uncertaintyMs : null;
      const { stop, cancelledIds, released } = await beat(context.sql, context.orchestratorId, held, graceMs, heldAt);
      if (released > 0) {
        context.logger.warn("released executions this orchestrator had claimed but never received (a claim's reply was lost)", {
          orchestrator: context.orchestratorId,
          count: released,
        });
      }
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
