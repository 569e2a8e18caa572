/**
 * Maintenance: retention (removeOnComplete / removeOnFail), orphaned steps, expired invoke gates and
 * dead orchestrator records. One orchestrator at a time runs it (a transaction-scoped advisory lock;
 * the others skip), at least once a day: each orchestrator looks a minute after it starts and then
 * hourly whether the last run recorded in the database is a day old.
 */
import type { Sql } from "postgres";
import { msSinceLastMaintenance, runMaintenanceLocked, type MaintenanceReport } from "../db/maintenance";
import type { OrchestratorService, ServiceContext } from "./service";

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/**
 * Runs maintenance now unless another process is running it (then null). `leaseMs`: orchestrators
 * silent this long are removed; `now` (tests) is the time retention is measured from.
 */
export async function runMaintenance(sql: Sql, options: { leaseMs: number; now?: Date }): Promise<MaintenanceReport | null> {
  return runMaintenanceLocked(sql, options.leaseMs, options.now);
}

export class MaintenanceService implements OrchestratorService {
  readonly name = "maintenance";
  private timer: ReturnType<typeof setInterval> | null = null;
  private firstCheck: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: {
      /** Runs when the last run is older than this (default one day). */
      everyMs?: number;
      /** How often to look (default hourly). */
      checkMs?: number;
      /** The first look after start (default one minute: a starting process has other work first). */
      firstCheckMs?: number;
      /** Orchestrators silent this long are removed (default one hour, far above any sane lease). */
      deadAfterMs?: number;
    } = {},
  ) {}

  start(context: ServiceContext): void {
    const everyMs = this.options.everyMs ?? DAY_MS;
    const check = () => {
      this.running = this.runIfDue(context, everyMs).catch((error) => context.logger.warn("maintenance failed", { error }));
    };
    this.firstCheck = setTimeout(check, this.options.firstCheckMs ?? 60_000);
    this.firstCheck.unref?.();
    this.timer = setInterval(check, Math.min(this.options.checkMs ?? HOUR_MS, everyMs));
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.firstCheck) clearTimeout(this.firstCheck);
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async runIfDue(context: ServiceContext, everyMs: number): Promise<void> {
    const sinceLast = await msSinceLastMaintenance(context.sql);
    if (sinceLast !== null && sinceLast < everyMs) return;
    const report = await runMaintenance(context.sql, { leaseMs: this.options.deadAfterMs ?? HOUR_MS });
    if (report) context.logger.info("maintenance ran", { ...report });
  }
}
