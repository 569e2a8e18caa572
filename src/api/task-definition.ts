/** conductor.createTask and createWorker: checking what the user wrote and turning it into a Task or worker. */
import type { EventSchemas, TaskSchemas } from "../model/definitions";
import { ConfigurationError, UnknownTaskError } from "../model/errors";
import { assertKnownEventTriggers } from "../model/event-validation";
import { resolveFlowSettings } from "../model/flow-settings";
import type { Task, TaskOptions, Trigger } from "../model/task";
import { resolveTaskSettings } from "../model/task-settings";
import { validateTriggers } from "../model/triggers";
import { resolveWorkerConfig, type WorkerDefinition } from "../model/worker-config";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE } from "../model/defaults";
import type { CreateWorkerOptions } from "./conductor-options";

/** A task reference names a task of the Conductor's TaskSchemas (any name when they are types only). */
export function assertKnownTask(schemas: TaskSchemas<any>, name: string): void {
  if (typeof name !== "string" || name.length === 0) throw new ConfigurationError("A task reference needs a `name`");
  const definitions = schemas.definitions;
  if (definitions && !definitions.has(name)) throw new UnknownTaskError(name, [...definitions.keys()]);
}

/** Every setting is checked here, so a mistake is an error at createTask, not at the first run. */
export function defineTaskHandler(
  taskRef: TaskOptions,
  triggers: Trigger | readonly Trigger[],
  handler: unknown,
  eventSchemas: EventSchemas<any> | undefined,
): Task {
  const name = taskRef.name;
  if (typeof handler !== "function") throw new ConfigurationError(`createTask "${name}": the handler must be a function`);
  const maxAttempts = taskRef.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigurationError(`createTask "${name}": maxAttempts must be a positive integer (got ${taskRef.maxAttempts})`);
  }
  const triggerList = (Array.isArray(triggers) ? triggers : [triggers]) as Trigger[];
  validateTriggers(name, triggerList);
  assertKnownEventTriggers(name, triggerList, eventSchemas);
  resolveTaskSettings(taskRef);
  resolveFlowSettings(taskRef);
  return {
    name,
    queue: taskRef.queue ?? DEFAULT_QUEUE,
    maxAttempts,
    options: taskRef,
    triggers: triggerList,
    handler: handler as Task["handler"],
  };
}

export function defineWorker(options: CreateWorkerOptions): WorkerDefinition {
  if (!options?.queue) throw new ConfigurationError("createWorker: `queue` is required");
  for (const task of options.tasks ?? []) {
    if (task.queue !== options.queue) {
      throw new ConfigurationError(`createWorker: task "${task.name}" belongs to queue "${task.queue}", not "${options.queue}"`);
    }
  }
  return { queue: options.queue, tasks: options.tasks ?? [], config: resolveWorkerConfig(options.config) };
}
