/**
 * Runs a database write again while it fails for a transient reason (the connection dropped, the
 * server restarts), with a capped exponential backoff, for at most `maxMs`. Any other error, or a
 * transient one past the limit, is thrown as is. Only for writes that are safe to repeat.
 */
import { isTransientDbError } from "../db/connection-errors";

export interface RetryTransientOptions {
  /** Give up (rethrow) once this long has passed since the first attempt. */
  maxMs: number;
  /** First delay; doubled after each failure up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?(error: unknown, attempt: number): void;
  /** Stops retrying early (e.g. the execution was released); the last error is thrown. */
  abandoned?(): boolean;
}

export async function retryTransient<T>(write: () => Promise<T>, options: RetryTransientOptions): Promise<T> {
  const started = Date.now();
  let delay = options.initialDelayMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const elapsed = Date.now() - started;
      if (!isTransientDbError(error) || elapsed + delay > options.maxMs || options.abandoned?.()) throw error;
      options.onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.maxDelayMs ?? 1_000);
    }
  }
}
