/** Errors a user can catch by class. Each message names the thing and the rule it broke. */

export class PgConductorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends PgConductorError {
  constructor(
    readonly subject: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
  ) {
    super(`${subject}: invalid payload: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`);
  }
}

export class UnknownTaskError extends PgConductorError {
  constructor(readonly taskName: string, known: readonly string[]) {
    super(`Unknown task "${taskName}": it is not in the Conductor's TaskSchemas (known: ${known.join(", ") || "none"})`);
  }
}

export class UnknownEventError extends PgConductorError {
  constructor(readonly eventName: string, known: readonly string[]) {
    super(`Unknown event "${eventName}": it is not in the Conductor's EventSchemas (known: ${known.join(", ") || "none"})`);
  }
}

export class ConfigurationError extends PgConductorError {}

/** A child execution failed for good; the parent fails without further retries. */
export class ChildExecutionError extends PgConductorError {
  constructor(childMessage: string) {
    super(`Child execution failed: ${childMessage}`);
  }
}

export class ChildTimeoutError extends PgConductorError {}

/** An attempt ran longer than its task's timeoutMs; it fails and is retried like any failure. */
export class TaskTimeoutError extends PgConductorError {
  constructor(readonly taskName: string, readonly timeoutMs: number) {
    super(`Task "${taskName}" timed out after ${timeoutMs} ms (timeoutMs)`);
  }
}
