import type { ExecutionEventKind } from "./channels";

export type { ExecutionEventKind };

/** Something that happened to an execution, as `conductor.observe()` emits it. */
export interface ExecutionEvent<Result = unknown> {
  kind: ExecutionEventKind;
  executionId: string;
  task: string;
  queue: string;
  /** The attempt this event belongs to (0 for `created`). */
  attempt: number;
  /** When the transition committed (the database's transaction time). */
  at: Date;
  /** `completed`: the handler's result. */
  result?: Result;
  /** `failed` and `retrying`: the attempt's error; `cancelled`: the reason. */
  error?: string;
  /** True for events rebuilt from the tables by `history`. */
  replayed?: boolean;
}

/**
 * A queue or a task was paused or resumed (by any process), as `observe({ pauses: true })` emits it.
 * A queue's pause carries `queue`; a task's carries `task` and, when the task is registered, its `queue`.
 */
export interface PauseEvent {
  kind: "paused" | "resumed";
  queue?: string;
  task?: string;
  /** When the pause was recorded (`paused`) or the announcement was read (`resumed`): database time. */
  at: Date;
  /** True for the pauses in force when observation began, replayed by `history`. */
  replayed?: boolean;
}

export interface ObserveFilter {
  task?: string | readonly string[];
  queue?: string | readonly string[];
  executionId?: string | readonly string[];
  /** `paused` / `resumed` select pause events (with `pauses: true`). */
  kind?: ExecutionEventKind | PauseEvent["kind"] | readonly (ExecutionEventKind | PauseEvent["kind"])[];
  /**
   * Replay recent events from the tables before live ones: `true` (executions created in the last
   * hour, at most 1000) or `{ since, limit }`. With `executionId`, those executions whatever their age.
   */
  history?: boolean | { since?: Date; limit?: number };
  /**
   * Also emit `paused` / `resumed` events of queues and tasks (`queue`, `task` and `kind` filter them
   * as they filter execution events; `executionId` leaves them out). With `history`, the pauses in
   * force are replayed first.
   */
  pauses?: boolean;
}
