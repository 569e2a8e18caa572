/** What Conductor.create, invoke and createWorker accept, and the database connection a Conductor gets from it. */
import type { Sql } from "postgres";
import type { DatabaseSchema } from "../model/database-schema";
import { TaskSchemas, type EventSchemas, type EventTypeMap, type TaskTypeMap } from "../model/definitions";
import { ConfigurationError } from "../model/errors";
import { openPool } from "../db/connect";
import type { Logger } from "../model/logger";
import type { Task } from "../model/task";
import type { WorkerConfig } from "../model/worker-config";

export interface ConductorOptions<Tasks extends TaskTypeMap, Events extends EventTypeMap, Context extends object, Database = unknown> {
  sql?: Sql;
  connectionString?: string;
  tasks: TaskSchemas<Tasks>;
  context?: Context;
  logger?: Logger;
  events?: EventSchemas<Events>;
  database?: DatabaseSchema<Database>;
}

export interface InvokeOptions {
  /** Per task and queue: while an execution with this key is unfinished, invoking again returns its id. */
  dedupe_key?: string;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this time (a Date or epoch milliseconds). */
  run_at?: Date | number;
  /** At most one execution per `seconds` for the task and dedupe_key; calls inside the window get its id. */
  throttle?: { seconds: number };
  /**
   * Calls for the task and dedupe_key collapse into one execution, run `seconds` after the last call
   * with its payload; with `maxSeconds`, never later than that after the first call of the series.
   */
  debounce?: { seconds: number; maxSeconds?: number };
  /** The key per-key limits count this execution under (the task needs keyConcurrency or rateLimit.perKey). */
  concurrency_key?: string;
}

export interface InvokeItem<Payload> extends InvokeOptions {
  payload: Payload;
}

export interface CreateWorkerOptions {
  queue: string;
  tasks: readonly Task[];
  config?: WorkerConfig;
}

/** The pool to use: the caller's `sql`, or one opened from `connectionString` (then the Conductor owns it). */
export function connectionOf(options: ConductorOptions<any, any, any, any>): { sql: Sql; owned: boolean } {
  if (options.sql && options.connectionString) {
    throw new ConfigurationError("Conductor.create: pass either `sql` or `connectionString`, not both");
  }
  if (!options.sql && !options.connectionString) {
    throw new ConfigurationError("Conductor.create: a database is required: pass `sql` (a postgres.js instance) or `connectionString`");
  }
  if (!(options.tasks instanceof TaskSchemas)) {
    throw new ConfigurationError("Conductor.create: `tasks` must be TaskSchemas.fromSchema([...]) or TaskSchemas.fromTypes<[...]>()");
  }
  if (options.sql) return { sql: options.sql, owned: false };
  // postgres.js shares one reconnect backoff (up to 20 s) between the pool and the LISTEN connection;
  // capped at 2 s so a restarted server is listened to again quickly.
  return { sql: openPool(options.connectionString!, { backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 2) }), owned: true };
}
