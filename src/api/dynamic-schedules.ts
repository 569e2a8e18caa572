/** ctx.schedule / conductor.schedule and unschedule: dynamic cron schedules, checked before anything is written. */
import type { Db } from "../db/db";
import { ConfigurationError } from "../model/errors";
import { cronProblem, nextFireTime } from "../model/cron-times";
import { DEFAULT_TIME_ZONE } from "../model/defaults";
import { removeSchedule, upsertSchedule } from "../db/schedules";

import { textProblem } from "../model/validate";
export interface ScheduleRequest {
  taskKey: string;
  queue: string;
  scheduleName: string;
  schedule: { cron: string; tz?: string };
}

/** The problem with a schedule request (names the schedule and task), or null. */
export function scheduleProblem(request: Omit<ScheduleRequest, "queue">): string | null {
  const { taskKey, scheduleName, schedule } = request;
  if (typeof scheduleName !== "string" || scheduleName.length === 0) return `schedule of task "${taskKey}": the schedule name must be a non-empty string`;
  const text = textProblem(scheduleName);
  if (text) return `schedule of task "${taskKey}": the schedule name ${text}`;
  const problem = cronProblem(schedule?.cron, schedule?.tz ?? DEFAULT_TIME_ZONE);
  return problem ? `schedule "${scheduleName}" of task "${taskKey}": ${problem}` : null;
}

/** Creates or replaces the schedule; returns the fire time of its pending run. */
export function writeSchedule(db: Db, request: ScheduleRequest, payload: unknown): Promise<Date> {
  const tz = request.schedule.tz ?? DEFAULT_TIME_ZONE;
  return withConfigurationErrors(() =>
    upsertSchedule(db, {
      taskKey: request.taskKey,
      queue: request.queue,
      name: request.scheduleName,
      cron: request.schedule.cron,
      tz,
      payload,
      first: nextFireTime(request.schedule.cron, tz, new Date()),
    }),
  );
}

export function deleteSchedule(db: Db, taskKey: string, scheduleName: string): Promise<boolean> {
  return withConfigurationErrors(() => removeSchedule(db, taskKey, scheduleName));
}

/** The schedule functions reject a misuse (e.g. unscheduling a static trigger) with SQLSTATE 22023. */
async function withConfigurationErrors<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { code?: string })?.code === "22023") throw new ConfigurationError((error as Error).message);
    throw error;
  }
}
