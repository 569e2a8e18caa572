/**
 * stop()'s grace limit for one worker: once `graceMs` has passed, every execution still running is
 * released (its ctx.signal aborted with the reason) without waiting for its handler any longer; the
 * handler's later outcome is ignored and no attempt is spent (pgconductor.release).
 */
import { PgConductorError } from "../model/errors";
import type { Logger } from "../model/logger";
import type { Outcome } from "./run-execution";
import type { Abortable } from "./on-demand-abort";

export class StopGrace {
  private readonly running = new Map<string, () => void>();

  /** Settles with a release outcome if the grace limit passes while the execution runs. */
  forced(executionId: string, controller: Abortable): Promise<Outcome> {
    return new Promise<Outcome>((resolve) =>
      this.running.set(executionId, () => {
        controller.abort(new PgConductorError("the orchestrator's stop timeout passed; the execution was released to run again"));
        resolve({ kind: "release", id: executionId });
      }),
    );
  }

  done(executionId: string): void {
    this.running.delete(executionId);
  }

  /** Starts the grace period; returns the function that cancels it (everything ended in time). */
  arm(graceMs: number, logger: Logger, queue: string): () => void {
    if (!Number.isFinite(graceMs)) return () => {};
    const timer = setTimeout(() => {
      if (this.running.size === 0) return;
      logger.warn(`stop timeout (${graceMs} ms) passed: releasing ${this.running.size} running execution(s) to run again`, {
        queue,
        executions: [...this.running.keys()].join(","),
      });
      for (const release of [...this.running.values()]) release();
    }, Math.max(0, graceMs));
    return () => clearTimeout(timer);
  }
}
