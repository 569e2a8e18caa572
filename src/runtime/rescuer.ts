/**
 * The rescuer returns the work of dead orchestrators to its queues: an orchestrator whose lease ran
 * out is removed, and executions it held run again (pgconductor.recover_expired). Every
 * orchestrator runs one; the statement is safe to run concurrently. Runs are coalesced, never
 * overlapping, and a round repeats (up to `maxRounds`) while it still finds work, so a backlog of
 * expired executions is cleared in one tick without an unbounded loop.
 */
import { interval, type Observable } from "rxjs";
import { recoverExpired } from "../db/orchestrators";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEASE_MS } from "../model/defaults";
import { runOnTicks } from "./coalesce";
import type { OrchestratorService, ServiceContext } from "./service";

export interface RescuerOptions {
  /** How often to look (default: the heartbeat interval, 5 000 ms). */
  intervalMs?: number;
  /** An orchestrator silent this long is dead (default 30 000 ms). */
  leaseMs?: number;
  /** Most statements per tick (default 10). */
  maxRounds?: number;
  /** Ticks instead of the interval (tests). */
  ticks$?: Observable<unknown>;
  /** The database call (tests pass a stand-in). */
  recover?: typeof recoverExpired;
}

export const RESCUER_DEFAULTS = { intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, leaseMs: DEFAULT_LEASE_MS, maxRounds: 10 };

export class RescuerService implements OrchestratorService {
  readonly name = "rescuer";
  private runs: { stop(): Promise<void> } | null = null;
  private readonly config: typeof RESCUER_DEFAULTS;

  constructor(private readonly options: RescuerOptions = {}) {
    this.config = {
      intervalMs: options.intervalMs ?? RESCUER_DEFAULTS.intervalMs,
      leaseMs: options.leaseMs ?? RESCUER_DEFAULTS.leaseMs,
      maxRounds: options.maxRounds ?? RESCUER_DEFAULTS.maxRounds,
    };
  }

  start(context: ServiceContext): void {
    this.runs = runOnTicks(
      this.options.ticks$ ?? interval(this.config.intervalMs),
      () => this.rescue(context),
      (error) => context.logger.warn("recovering executions of dead orchestrators failed", { orchestrator: context.orchestratorId, error }),
    );
  }

  async stop(): Promise<void> {
    await this.runs?.stop();
  }

  /** One tick: recovers until a round finds nothing or maxRounds ran; returns how many were recovered. */
  async rescue(context: Pick<ServiceContext, "sql" | "logger">): Promise<number> {
    const recover = this.options.recover ?? recoverExpired;
    let total = 0;
    for (let round = 0; round < this.config.maxRounds; round++) {
      const recovered = await recover(context.sql, this.config.leaseMs);
      if (recovered === 0) break;
      total += recovered;
    }
    if (total > 0) context.logger.warn("returned executions of dead orchestrators to their queues", { count: total });
    return total;
  }
}
