/** Types of custom-event payloads as handlers see them: typed from the Conductor's EventSchemas, narrowed by `fields`. */
import type { EventTypeMap } from "./definitions";

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** `"id, email"` -> `"id" | "email"`. */
export type FieldNames<S extends string> = S extends `${infer Head},${infer Rest}` ? Trim<Head> | FieldNames<Rest> : Trim<S>;

/** The keys a `fields` list keeps; the whole payload when there is none (or it is not a literal). */
type Kept<Payload, Fields> = Fields extends string
  ? string extends Fields
    ? Partial<Payload>
    : Pick<Payload, FieldNames<Fields> & keyof Payload>
  : Payload;

/**
 * The payload of event `E` for a trigger with `fields`. Without typed events (no EventSchemas, or an
 * event missing from them) it is a plain record.
 */
export type EventPayload<Events, E extends string, Fields = undefined> = string extends keyof Events
  ? Record<string, unknown>
  : E extends keyof Events
    ? Events[E] extends { payload: infer P }
      ? Kept<P, Fields>
      : Record<string, unknown>
    : Record<string, unknown>;
