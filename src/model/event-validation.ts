/** Checks of custom events against the Conductor's EventSchemas (emit and { event } triggers). */
import type { EventSchemas } from "./definitions";
import { ConfigurationError, UnknownEventError } from "./errors";
import type { Trigger } from "./task";
import { isEventTrigger } from "./trigger-specs";
import { assertStorableJson, assertStorableText, validateWith } from "./validate";

/** The payload as the event's schema outputs it; the error names the event and the failing path. Writes nothing. */
export async function validateEvent(schemas: EventSchemas<any> | undefined, name: unknown, payload: unknown): Promise<unknown> {
  if (typeof name !== "string" || name.length === 0) throw new ConfigurationError("emit: the event name must be a non-empty string");
  assertStorableText("emit", "the event name", name);
  const definitions = schemas?.definitions;
  const definition = definitions?.get(name);
  if (definitions && !definition) throw new UnknownEventError(name, [...definitions.keys()]);
  const value = definition ? await validateWith(definition.payload, payload, `Event "${name}"`) : payload;
  assertStorableJson(`Event "${name}"`, value);
  return value;
}

/** With EventSchemas, an { event } trigger must name one of them. */
export function assertKnownEventTriggers(taskName: string, triggers: readonly Trigger[], schemas: EventSchemas<any> | undefined): void {
  const definitions = schemas?.definitions;
  if (!definitions) return;
  for (const trigger of triggers) {
    if (isEventTrigger(trigger) && !definitions.has(trigger.event)) {
      throw new ConfigurationError(
        `createTask "${taskName}": event trigger "${trigger.event}" is not in the Conductor's EventSchemas (known: ${[...definitions.keys()].join(", ") || "none"})`,
      );
    }
  }
}
