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

export interface ObserveFilter {
  task?: string | readonly string[];
  queue?: string | readonly string[];
  executionId?: string | readonly string[];
  kind?: ExecutionEventKind | readonly ExecutionEventKind[];
  /**
   * Replay recent events from the tables before live ones: `true` (executions created in the last
   * hour, at most 1000) or `{ since, limit }`. With `executionId`, those executions whatever their age.
   */
  history?: boolean | { since?: Date; limit?: number };
}
