/**
 * timeoutMs of a task: when an attempt runs longer, ctx.signal aborts and the attempt fails with a
 * TaskTimeoutError at once (retried like any failure). The handler is not awaited further: its
 * later outcome is ignored, and its next step, sleep or checkpoint stops it (the signal is aborted).
 */
import { TaskTimeoutError } from "../model/errors";
import type { Abortable } from "./on-demand-abort";

export function withTimeout<T>(
  attempt: Promise<T>,
  timeout: { taskName: string; ms: number; controller: Abortable },
  onTimeout: (error: TaskTimeoutError) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new TaskTimeoutError(timeout.taskName, timeout.ms);
      timeout.controller.abort(error);
      resolve(onTimeout(error));
    }, timeout.ms);
    attempt.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
