import { Observable, type OperatorFunction } from "rxjs";

/**
 * Runs `work` for a wake-up, never twice at once. Wake-ups during a run collapse into exactly one
 * more run afterwards (exhaustMap would drop that trailing wake-up and strand work). Emits each
 * run's value; a failed run is reported to `onError` and does not end the stream.
 */
export function coalesceRuns<T>(work: () => Promise<T>, onError: (error: unknown) => void): OperatorFunction<unknown, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let running = false;
      let again = false;
      let closed = false;
      const run = async () => {
        running = true;
        do {
          again = false;
          try {
            const value = await work();
            if (!closed) subscriber.next(value);
          } catch (error) {
            onError(error);
          }
        } while (again && !closed);
        running = false;
      };
      const subscription = source.subscribe({
        next: () => {
          if (running) again = true;
          else void run();
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        closed = true;
        subscription.unsubscribe();
      };
    });
}
