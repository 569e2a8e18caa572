/**
 * Writes step results for every handler that shares a connection pool. A step's caller waits for
 * its own result to be stored; steps that finish while a write is in flight go together into the
 * next one, so a busy worker pays one statement for many steps instead of one each.
 */
import type { Sql } from "postgres";
import { saveSteps } from "../db/steps";

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

  constructor(private readonly sql: Sql) {}

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
        await saveSteps(this.sql, batch);
        batch.forEach((step) => step.resolve());
      } catch (error) {
        // The handlers see the error as their step's failure and retry as usual.
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
