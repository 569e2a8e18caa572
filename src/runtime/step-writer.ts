/**
 * Writes step results for every handler that shares a connection pool. A step's caller waits for
 * its own result to be stored; steps that finish while a write is in flight go together into the
 * next one, so a busy worker pays one statement for many steps instead of one each.
 *
 * A write that fails because the database is briefly away is retried (the step write is idempotent:
 * the first write of a name wins), so a restart or a dropped connection is not the handler's
 * failure and costs no attempt. Past STEP_WRITE_RETRY_MS the error reaches the handler as before.
 */
import type { Sql } from "postgres";
import { saveSteps } from "../db/steps";
import { retryTransient } from "./retry-transient";

/** As long as an orchestrator's lease: beyond it, another orchestrator may take the execution over. */
export const STEP_WRITE_RETRY_MS = 30_000;

interface PendingStep {
  executionId: string;
  name: string;
  result: unknown;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

export class StepWriter {
  private pending: PendingStep[] = [];
  private writing = false;

  constructor(
    private readonly sql: Sql,
    private readonly retryMs = STEP_WRITE_RETRY_MS,
  ) {}

  save(executionId: string, name: string, result: unknown): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ executionId, name, result, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await retryTransient(() => saveSteps(this.sql, batch), { maxMs: this.retryMs });
        batch.forEach((step) => step.resolve());
      } catch (error) {
        // A wrong value, or the database away for longer than the limit: the handlers see the error.
        batch.forEach((step) => step.reject(error));
      }
    }
    this.writing = false;
  }
}

const writers = new WeakMap<Sql, StepWriter>();

export function stepWriterFor(sql: Sql): StepWriter {
  let writer = writers.get(sql);
  if (!writer) writers.set(sql, (writer = new StepWriter(sql)));
  return writer;
}
