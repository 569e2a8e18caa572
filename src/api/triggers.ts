import { ConfigurationError } from "./errors";
import type { Trigger } from "./task";

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
    const kind = "cron" in trigger ? "cron" : "event" in trigger ? "event" : "table" in trigger ? "table" : null;
    if (kind) throw new ConfigurationError(`${label}: ${kind} triggers are not supported by this version`);
    throw new ConfigurationError(`${label}: unknown trigger ${JSON.stringify(trigger)}; expected { invocable: true }`);
  });
}
