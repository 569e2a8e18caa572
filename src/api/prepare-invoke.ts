/**
 * From an invoke call to rows, and from rows to one write: validation (payload schema, run_at,
 * priority, throttle/debounce, concurrency key) writes nothing; the write sends plain, keyed and
 * gated executions each down their own statement, inside the caller's transaction if one is given.
 */
import type { Sql } from "postgres";
import type { TaskSchemas } from "../model/definitions";
import { ConfigurationError } from "../model/errors";
import type { Task, TaskReference } from "../model/task";
import { validateWith } from "../model/validate";
import { DEFAULT_PRIORITY, DEFAULT_QUEUE } from "../model/defaults";
import { invokeExecutions, type NewExecution } from "../db/invoke";
import { invokeKeyed } from "../db/flow-control";
import { writeOncePerDedupeKey } from "./invoke-batch";
import { invokeWithGates, resolveGate } from "./invoke-gates";
import { resolveConcurrencyKey, writeKeyedApart } from "./invoke-flow";
import type { InvokeOptions } from "./conductor-options";

import { assertStorableJson } from "../model/validate";
import { checkInvokeOptions, checkTaskReference } from "../model/invoke-checks";

export async function prepareInvocation(
  schemas: TaskSchemas<any>,
  tasks: ReadonlyMap<string, Task>,
  ref: TaskReference,
  payload: unknown,
  options: InvokeOptions = {},
): Promise<NewExecution> {
  const name = ref.name;
  const definition = schemas.definitions?.get(name);
  checkTaskReference(`Task "${name}"`, ref);
  const value = await validateWith(definition?.payload, payload, `Task "${name}"`);
  assertStorableJson(`Task "${name}"`, value);
  const { runAt } = checkInvokeOptions(`Task "${name}"`, options);
  const gate = resolveGate(name, options);
  const concurrencyKey = resolveConcurrencyKey(name, options.concurrency_key, tasks.get(name));
  return {
    taskKey: name,
    queue: ref.queue ?? tasks.get(name)?.queue ?? DEFAULT_QUEUE,
    payload: value,
    dedupeKey: options.dedupe_key ?? null,
    priority: options.priority ?? DEFAULT_PRIORITY,
    runAt,
    gate,
    concurrencyKey,
  };
}

/** Writes prepared rows; the ids come back in the order of `rows`. */
export async function writeInvocations(db: Sql, rows: NewExecution[]): Promise<string[]> {
  const invokePlain = (target: Sql, plain: NewExecution[]) =>
    writeKeyedApart(
      plain,
      (unkeyed) => writeOncePerDedupeKey(unkeyed, (unique) => invokeExecutions(target, unique)),
      (keyed) => writeOncePerDedupeKey(keyed, (unique) => invokeKeyed(target, unique)),
    );
  return rows.some((row) => row.gate || row.concurrencyKey != null) ? invokeWithGates(db, rows, invokePlain) : invokePlain(db, rows);
}
