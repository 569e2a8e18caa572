/**
 * Keeps the cron schedules of an orchestrator's tasks moving. At start it writes the tasks'
 * `{ cron, name }` triggers as static schedules (removing those that no longer exist). Then, each
 * time a materialised fire time comes (its own due timer, armed from the table and from
 * `pgconductor_schedule` notifications), it computes the following fire time and materialises it as
 * a pending execution, so the worker's due timer starts it when due. Any number of orchestrators
 * may do this at once: rows are locked with SKIP LOCKED and moved with a compare-and-set.
 */
import { filter, interval, map, merge, of, Subject, Subscription } from "rxjs";
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";
import { staticSchedulesOf } from "../model/trigger-specs";
import { advanceDueSchedules, earliestScheduledFire, syncStaticSchedules, type ScheduleAdvance } from "../db/schedules";
import { dueTimer } from "../streams/due-timer";
import { parseScheduleNotification, SCHEDULE_CHANNEL } from "../model/channels";
import { coalesceRuns } from "./coalesce";
import { advanceSchedule } from "../model/cron-times";
import type { OrchestratorService, ServiceContext } from "./service";

export interface CronServiceOptions {
  /** Safety net for a lost notification or a crashed peer (default 30 000 ms). */
  sweepIntervalMs?: number;
  /** Schedules moved per transaction (default 100). */
  batchSize?: number;
  /** When a due schedule is held by another orchestrator, look again after this long (default 50 ms). */
  retryMs?: number;
}

export class CronService implements OrchestratorService {
  readonly name = "cron";
  private readonly subscription = new Subscription();
  private readonly sweepIntervalMs: number;
  private readonly batchSize: number;
  private readonly retryMs: number;
  /** The advance in flight, awaited by stop() so it does not outlive the orchestrator. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(options: CronServiceOptions = {}) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    this.batchSize = options.batchSize ?? 100;
    this.retryMs = options.retryMs ?? 50;
  }

  async start(context: ServiceContext): Promise<void> {
    const taskKeys = context.tasks.map((task) => task.name);
    if (taskKeys.length === 0) return;
    await syncStaticSchedules(context.sql, taskKeys, staticSchedulesOf(context.tasks));

    const candidates$ = new Subject<number>();
    const notifications = context.channel(SCHEDULE_CHANNEL);
    const announced$ = notifications.pipe(
      map((message) => (message.type === "notification" ? parseScheduleNotification(message.payload) : null)),
      filter((at): at is number => at !== null),
      // A fire time is a database time; the timer runs on this process's clock.
      map((at) => context.clock?.toLocal(at) ?? at),
    );
    const reconnected$ = notifications.pipe(filter((message) => message.type === "listening"));
    const wake$ = merge(of(0), reconnected$, interval(this.sweepIntervalMs), dueTimer(merge(candidates$, announced$)));
    this.subscription.add(
      wake$
        .pipe(
          coalesceRuns(
            () => {
              const run = this.advanceDue(context.sql, taskKeys, context.logger);
              this.inFlight = run.catch(() => {});
              return run;
            },
            (error) => context.logger.error("advancing cron schedules failed", { error }),
          ),
        )
        .subscribe((at) => at !== null && candidates$.next(at)),
    );
  }

  async stop(): Promise<void> {
    this.subscription.unsubscribe();
    await this.inFlight;
  }

  /** Moves every due schedule forward; returns when (local epoch ms) to look again, if known. */
  private async advanceDue(sql: Sql, taskKeys: readonly string[], logger: Logger): Promise<number | null> {
    for (;;) {
      const found = await advanceDueSchedules(sql, taskKeys, this.batchSize, (due) =>
        due.map((row): ScheduleAdvance => {
          try {
            const { next, missed } = advanceSchedule({ cron: row.cron, tz: row.tz, previous: row.next_run_at }, row.now);
            if (missed > 0) {
              logger.warn("cron fire times passed while no orchestrator ran; they run once, not once each", {
                task: row.task_key,
                schedule: row.name,
                missed,
              });
            }
            return { taskKey: row.task_key, name: row.name, previous: row.next_run_at, next };
          } catch (error) {
            logger.error("cron schedule cannot be evaluated; it is parked", { task: row.task_key, schedule: row.name, cron: row.cron, error });
            return { taskKey: row.task_key, name: row.name, previous: row.next_run_at, next: null };
          }
        }),
      );
      if (found < this.batchSize) break;
    }
    const { at, now } = await earliestScheduledFire(sql, taskKeys);
    if (at === null) return null;
    // Due but not moved: another orchestrator holds the row (or its commit is in flight); look again soon.
    const delay = at.getTime() - now.getTime();
    return Date.now() + (delay <= 0 ? this.retryMs : delay);
  }
}
