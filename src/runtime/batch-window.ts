import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from "rxjs";

/**
 * Groups items into batches: a batch is emitted when it holds `size` items or `timeoutMs` after its
 * first item arrived, whichever comes first. Unlike bufferTime, the clock starts with the first item
 * (so a lone item waits the full timeout, never less) and nothing is emitted while idle.
 * On completion the partial batch is emitted at once.
 */
export function batchWindow<T>(size: number, timeoutMs: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let timer: Subscription | null = null;
      const emit = () => {
        timer?.unsubscribe();
        timer = null;
        if (batch.length === 0) return;
        const full = batch;
        batch = [];
        subscriber.next(full);
      };
      const subscription = source.subscribe({
        next: (item) => {
          batch.push(item);
          if (batch.length >= size) emit();
          else if (!timer) timer = scheduler.schedule(emit, timeoutMs);
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          emit();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
