/**
 * Task and event definitions and the typed registries built from them.
 *
 * Each registry carries a type map (`name -> { payload, returns }`) used only by the type checker,
 * and, when built from schemas, the schemas themselves for validation at run time.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

type Output<S> = S extends StandardSchemaV1<any, infer O> ? O : undefined;

export interface TaskDefinition<
  Name extends string = string,
  PayloadSchema extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined,
  ReturnsSchema extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined,
> {
  readonly name: Name;
  readonly payload?: PayloadSchema;
  readonly returns?: ReturnsSchema;
}

export function defineTask<
  const Name extends string,
  PayloadSchema extends StandardSchemaV1 | undefined = undefined,
  ReturnsSchema extends StandardSchemaV1 | undefined = undefined,
>(definition: { name: Name; payload?: PayloadSchema; returns?: ReturnsSchema }): TaskDefinition<Name, PayloadSchema, ReturnsSchema> {
  if (!definition || typeof definition.name !== "string" || definition.name.length === 0) {
    throw new TypeError("defineTask: `name` must be a non-empty string");
  }
  return definition;
}

/** The types-only form of a task: `type Email = DefineTask<{ name: "email"; payload: { to: string } }>`. */
export type DefineTask<T extends { name: string; payload?: unknown; returns?: unknown }> = {
  readonly name: T["name"];
  readonly __types?: { payload: "payload" extends keyof T ? T["payload"] : undefined; returns: "returns" extends keyof T ? T["returns"] : void };
};

export interface EventDefinition<Name extends string = string, PayloadSchema extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined> {
  readonly name: Name;
  readonly payload?: PayloadSchema;
}

export function defineEvent<const Name extends string, PayloadSchema extends StandardSchemaV1 | undefined = undefined>(
  definition: { name: Name; payload?: PayloadSchema },
): EventDefinition<Name, PayloadSchema> {
  if (!definition || typeof definition.name !== "string" || definition.name.length === 0) {
    throw new TypeError("defineEvent: `name` must be a non-empty string");
  }
  return definition;
}

export type DefineEvent<T extends { name: string; payload?: unknown }> = {
  readonly name: T["name"];
  readonly __types?: { payload: "payload" extends keyof T ? T["payload"] : undefined };
};

/** name -> { payload, returns }, the shape every typed call is checked against. */
export type TaskTypeMap = Record<string, { payload: unknown; returns: unknown }>;
export type EventTypeMap = Record<string, { payload: unknown }>;

type AnyTaskDef = TaskDefinition<string, any, any> | DefineTask<any>;
type AnyEventDef = EventDefinition<string, any> | DefineEvent<any>;

type TaskTypesOf<D> = D extends { __types?: infer T }
  ? T extends { payload: infer P; returns: infer R } ? { payload: P; returns: R } : never
  : D extends TaskDefinition<string, infer P, infer R>
    ? { payload: Output<P>; returns: R extends StandardSchemaV1 ? Output<R> : unknown }
    : never;

type EventTypesOf<D> = D extends { __types?: infer T }
  ? T extends { payload: infer P } ? { payload: P } : never
  : D extends EventDefinition<string, infer P> ? { payload: Output<P> } : never;

export type TaskMapOf<Defs extends readonly AnyTaskDef[]> = {
  [D in Defs[number] as D["name"]]: TaskTypesOf<D>;
};
export type EventMapOf<Defs extends readonly AnyEventDef[]> = {
  [D in Defs[number] as D["name"]]: EventTypesOf<D>;
};

export class TaskSchemas<Map extends TaskTypeMap = TaskTypeMap> {
  /** Type-level only: the map of task names to payload and result types. */
  declare readonly __map: Map;

  private constructor(
    /** Schemas by task name; null when built from types only (then names are not checked at run time). */
    readonly definitions: ReadonlyMap<string, TaskDefinition> | null,
  ) {}

  static fromSchema<const Defs extends readonly TaskDefinition<string, any, any>[]>(definitions: Defs): TaskSchemas<TaskMapOf<Defs>> {
    const byName = new Map<string, TaskDefinition>();
    for (const definition of definitions) {
      if (byName.has(definition.name)) throw new TypeError(`TaskSchemas: task "${definition.name}" is defined twice`);
      byName.set(definition.name, definition);
    }
    return new TaskSchemas(byName);
  }

  static fromTypes<const Defs extends readonly DefineTask<any>[]>(): TaskSchemas<TaskMapOf<Defs>> {
    return new TaskSchemas(null);
  }
}

export class EventSchemas<Map extends EventTypeMap = EventTypeMap> {
  declare readonly __map: Map;

  private constructor(readonly definitions: ReadonlyMap<string, EventDefinition> | null) {}

  static fromSchema<const Defs extends readonly EventDefinition<string, any>[]>(definitions: Defs): EventSchemas<EventMapOf<Defs>> {
    const byName = new Map<string, EventDefinition>();
    for (const definition of definitions) {
      if (byName.has(definition.name)) throw new TypeError(`EventSchemas: event "${definition.name}" is defined twice`);
      byName.set(definition.name, definition);
    }
    return new EventSchemas(byName);
  }

  static fromTypes<const Defs extends readonly DefineEvent<any>[]>(): EventSchemas<EventMapOf<Defs>> {
    return new EventSchemas(null);
  }
}
