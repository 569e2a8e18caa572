/**
 * Fire times of cron schedules (pure). cron-parser's `next()` is strictly after its current date,
 * which is what makes "advance from the later of the last fire time and now" skip missed ticks.
 */
import { CronExpressionParser } from "cron-parser";

import { DEFAULT_TIME_ZONE } from "./defaults";

export { DEFAULT_TIME_ZONE };

/**
 * Checks an expression (five fields, or six with seconds first) and a time zone; returns the reason
 * it is invalid, or null. An empty expression is invalid (cron-parser would read it as `* * * * *`).
 */
export function cronProblem(expression: unknown, tz: unknown = DEFAULT_TIME_ZONE): string | null {
  if (typeof expression !== "string" || expression.trim().length === 0) return "the cron expression must be a non-empty string";
  if (typeof tz !== "string" || tz.length === 0) return "tz must be a time-zone name such as \"UTC\" or \"Europe/Berlin\"";
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith("@") && fields !== 5 && fields !== 6) {
    return `invalid cron expression ${JSON.stringify(expression)}: expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${fields}`;
  }
  try {
    CronExpressionParser.parse(expression, { tz, currentDate: new Date(0) }).next();
    return null;
  } catch (error) {
    return `invalid cron expression ${JSON.stringify(expression)} (tz ${tz}): ${(error as Error).message}`;
  }
}

/** The first fire time strictly after `after`. */
export function nextFireTime(expression: string, tz: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { tz, currentDate: after }).next().toDate();
}

/**
 * Where a schedule goes next. `previous` is the fire time of the execution already materialised
 * (null for a new schedule). The next fire time is after both `previous` and `now`: when the
 * process woke a little early it is the one after `previous`; after downtime it is the first one
 * after `now`, so every fire time missed while nothing ran collapses into the single execution
 * that was already materialised for `previous` (it runs once, late), not one per missed tick.
 */
export function advanceSchedule(schedule: { cron: string; tz: string; previous: Date | null }, now: Date): { next: Date; missed: number } {
  const from = schedule.previous && schedule.previous > now ? schedule.previous : now;
  return { next: nextFireTime(schedule.cron, schedule.tz, from), missed: schedule.previous ? missedTicks(schedule.cron, schedule.tz, schedule.previous, now) : 0 };
}

/** Fire times strictly between `previous` and `now` (not counting `previous`): skipped, for the log. Counts at most `limit`. */
export function missedTicks(expression: string, tz: string, previous: Date, now: Date, limit = 1000): number {
  if (previous >= now) return 0;
  const iterator = CronExpressionParser.parse(expression, { tz, currentDate: previous, endDate: now });
  let count = 0;
  while (count < limit && iterator.hasNext()) {
    const at = iterator.next().toDate();
    if (at >= now) break;
    count += 1;
  }
  return count;
}
