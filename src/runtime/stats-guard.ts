/**
 * Keeps the planner's picture of pgconductor.executions from falling far behind a burst of work
 * (see sql/023_stale_stats.sql for the trap: plans made for an "empty" table make every claim read
 * and sort the whole backlog). Every orchestrator asks every STATS_CHECK_INTERVAL_MS; the function
 * analyzes only when the estimate is below half of the unfinished rows and nobody else is analyzing,
 * so a steady queue costs one cheap statement per interval. Autovacuum does the same job eventually;
 * this bounds the bad window to one interval instead of autovacuum's schedule.
 */
import { interval, type Observable } from "rxjs";
import { refreshStaleStats, type StatsRefresh } from "../db/maintenance";
import { runOnTicks } from "./coalesce";
import type { OrchestratorService, ServiceContext } from "./service";

export const STATS_CHECK_INTERVAL_MS = 5_000;
/** Below this many unfinished executions a bad plan costs little: not worth an ANALYZE. */
export const STATS_MIN_UNFINISHED = 1_000;

export interface StatsGuardOptions {
  ticks$?: Observable<unknown>;
  refresh?: typeof refreshStaleStats;
}

export class StatsGuardService implements OrchestratorService {
  readonly name = "stats-guard";
  private runs: { stop(): Promise<void> } | null = null;

  constructor(private readonly options: StatsGuardOptions = {}) {}

  start(context: ServiceContext): void {
    this.runs = runOnTicks(
      this.options.ticks$ ?? interval(STATS_CHECK_INTERVAL_MS),
      () => this.check(context),
      (error) => context.logger.warn("checking the planner statistics of pgconductor.executions failed", { error }),
    );
  }

  async stop(): Promise<void> {
    await this.runs?.stop();
  }

  async check(context: Pick<ServiceContext, "sql" | "logger">): Promise<StatsRefresh> {
    const refresh = this.options.refresh ?? refreshStaleStats;
    const result = await refresh(context.sql, STATS_MIN_UNFINISHED);
    if (result.analyzed) {
      context.logger.info("planner statistics of pgconductor.executions were stale: analyzed it", {
        unfinished: result.unfinished,
        estimate: result.estimate,
      });
    }
    return result;
  }
}
