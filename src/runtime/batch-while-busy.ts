import { Observable, type OperatorFunction } from "rxjs";

/**
 * Writes items in batches: the first item waits at most `maxWaitMs`, and everything that arrives
 * while a write is in flight goes into the next one (at most `maxBatch` per write). Under load
 * batches grow by themselves; when idle an item is written at once. A failed write is retried
 * after `retryDelayMs`, so results are not lost while the database is briefly away.
 * Emits the size of each batch written.
 */
export function batchWhileBusy<T>(
  write: (batch: T[]) => Promise<void>,
  options: { maxBatch: number; maxWaitMs: number; retryDelayMs?: number; onError?: (error: unknown) => void },
): OperatorFunction<T, number> {
  const { maxBatch, maxWaitMs, retryDelayMs = 500, onError = () => {} } = options;
  return (source) =>
    new Observable<number>((subscriber) => {
      const pending: T[] = [];
      let writing = false;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let sourceDone = false;

      const finishIfDone = () => {
        if (sourceDone && !writing && pending.length === 0) subscriber.complete();
      };
      const flush = async () => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (writing || pending.length === 0) return finishIfDone();
        writing = true;
        const batch = pending.splice(0, maxBatch);
        for (;;) {
          try {
            await write(batch);
            break;
          } catch (error) {
            onError(error);
            await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          }
        }
        writing = false;
        subscriber.next(batch.length);
        if (pending.length > 0) void flush();
        else finishIfDone();
      };
      const schedule = () => {
        if (writing || timer) return;
        if (maxWaitMs <= 0 || pending.length >= maxBatch) void flush();
        else timer = setTimeout(() => void flush(), maxWaitMs);
      };

      const subscription = source.subscribe({
        next: (item) => {
          pending.push(item);
          schedule();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          void flush();
        },
      });
      return () => {
        if (timer) clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
