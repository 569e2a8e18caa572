/** How waiting for an execution's result can end without a result. */
import { PgConductorError } from "./errors";

/** The execution failed for good; `message` is its last error. */
export class ExecutionFailedError extends PgConductorError {
  constructor(readonly executionId: string, readonly lastError: string | null) {
    super(lastError ?? `Execution ${executionId} failed`);
  }
}

export class ExecutionCancelledError extends PgConductorError {
  constructor(readonly executionId: string, readonly reason: string | null) {
    super(`Execution ${executionId} was cancelled${reason ? `: ${reason}` : ""}`);
  }
}

export class ExecutionNotFoundError extends PgConductorError {
  constructor(readonly executionId: string) {
    super(`No execution with id ${executionId}`);
  }
}

/** `result(id, { timeoutMs })` gave up; the execution itself goes on. */
export class ResultTimeoutError extends PgConductorError {
  constructor(readonly executionId: string, timeoutMs: number) {
    super(`Execution ${executionId} did not finish within ${timeoutMs} ms (it keeps running)`);
  }
}
