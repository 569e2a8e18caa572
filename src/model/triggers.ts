import { ConfigurationError } from "./errors";
import type { Trigger } from "./task";
import { validateTableTrigger } from "./table-trigger-shape";
import { assertDistinctTriggers, isCronTrigger, isEventTrigger, validateCronTrigger, validateEventTrigger } from "./trigger-specs";

/** Checks each trigger's shape at createTask; the error names the task and the trigger. */
export function validateTriggers(taskName: string, triggers: readonly Trigger[]): void {
  if (triggers.length === 0) throw new ConfigurationError(`createTask "${taskName}": at least one trigger is required (e.g. { invocable: true })`);
  triggers.forEach((trigger, index) => {
    const label = `createTask "${taskName}", trigger ${index + 1}`;
    if (!trigger || typeof trigger !== "object") throw new ConfigurationError(`${label}: a trigger must be an object`);
    if ("invocable" in trigger) {
      if (trigger.invocable !== true) throw new ConfigurationError(`${label}: invocable must be true`);
      return;
    }
    if (isCronTrigger(trigger)) {
      validateCronTrigger(label, trigger);
      return;
    }
    if (isEventTrigger(trigger)) {
      validateEventTrigger(label, trigger);
      return;
    }
    if ("table" in trigger) {
      validateTableTrigger(label, trigger as unknown as Record<string, unknown>);
      return;
    }
    const kind = "cron" in trigger ? "cron" : "event" in trigger ? "event" : "table" in trigger ? "table" : null;
    if (kind) throw new ConfigurationError(`${label}: ${kind} triggers are not supported by this version`);
    throw new ConfigurationError(`${label}: unknown trigger ${JSON.stringify(trigger)}; expected { invocable: true }`);
  });
  assertDistinctTriggers(taskName, triggers);
}
