/**
 * Cron and event triggers: their checks at createTask, and what the orchestrator writes for them
 * (static schedules, event subscriptions).
 */
import { ConfigurationError } from "./errors";
import type { CronTrigger, EventTrigger, Task, Trigger } from "./task";
import { cronProblem, DEFAULT_TIME_ZONE } from "./cron-times";

/** A `{ cron, name }` trigger as the orchestrator writes it to pgconductor.schedules. */
export interface StaticSchedule {
  taskKey: string;
  queue: string;
  name: string;
  cron: string;
  tz: string;
}

/** An `{ event, fields? }` trigger as written to pgconductor.event_subscriptions. */
export interface EventSubscription {
  event: string;
  taskKey: string;
  queue: string;
  /** Payload keys kept; null keeps the whole payload. */
  fields: readonly string[] | null;
}

export const isCronTrigger = (trigger: Trigger): trigger is CronTrigger => typeof trigger === "object" && trigger !== null && "cron" in trigger;
export const isEventTrigger = (trigger: Trigger): trigger is EventTrigger => typeof trigger === "object" && trigger !== null && "event" in trigger;

/** `label` names the task and the trigger, e.g. `createTask "report", trigger 2`. */
export function validateCronTrigger(label: string, trigger: CronTrigger): void {
  if (typeof trigger.name !== "string" || trigger.name.length === 0) {
    throw new ConfigurationError(`${label}: a cron trigger needs a \`name\` (the schedule name handlers see as event.name)`);
  }
  const problem = cronProblem(trigger.cron, trigger.tz ?? DEFAULT_TIME_ZONE);
  if (problem) throw new ConfigurationError(`${label} (schedule "${trigger.name}"): ${problem}`);
}

export function validateEventTrigger(label: string, trigger: EventTrigger): void {
  if (typeof trigger.event !== "string" || trigger.event.length === 0) {
    throw new ConfigurationError(`${label}: \`event\` must be the event's name`);
  }
  if (trigger.fields !== undefined) parseFields(trigger.fields, `${label} (event "${trigger.event}")`);
}

/** Two cron triggers of one task with the same name, or two triggers for the same event, are an error. */
export function assertDistinctTriggers(taskName: string, triggers: readonly Trigger[]): void {
  const seen = new Set<string>();
  for (const trigger of triggers) {
    const key = isCronTrigger(trigger) ? `schedule "${trigger.name}"` : isEventTrigger(trigger) ? `event "${trigger.event}"` : null;
    if (!key) continue;
    if (seen.has(key)) throw new ConfigurationError(`createTask "${taskName}": ${key} appears in more than one trigger; each must be unique per task`);
    seen.add(key);
  }
}

/** `"a, b,c"` -> `["a", "b", "c"]`. */
export function parseFields(fields: unknown, label: string): string[] {
  if (typeof fields !== "string") throw new ConfigurationError(`${label}: fields must be a comma list of payload keys, e.g. "id,email"`);
  const keys = fields.split(",").map((key) => key.trim());
  if (keys.some((key) => key.length === 0)) {
    throw new ConfigurationError(`${label}: fields ${JSON.stringify(fields)} has an empty key; expected a comma list such as "id,email"`);
  }
  return keys;
}

export function staticSchedulesOf(tasks: readonly Task[]): StaticSchedule[] {
  return tasks.flatMap((task) =>
    task.triggers.filter(isCronTrigger).map((trigger) => ({
      taskKey: task.name,
      queue: task.queue,
      name: trigger.name,
      cron: trigger.cron,
      tz: trigger.tz ?? DEFAULT_TIME_ZONE,
    })),
  );
}

export function eventSubscriptionsOf(tasks: readonly Task[], event?: string): EventSubscription[] {
  return tasks.flatMap((task) =>
    task.triggers
      .filter(isEventTrigger)
      .filter((trigger) => event === undefined || trigger.event === event)
      .map((trigger) => ({
        event: trigger.event,
        taskKey: task.name,
        queue: task.queue,
        fields: trigger.fields === undefined ? null : parseFields(trigger.fields, `task "${task.name}"`),
      })),
  );
}
