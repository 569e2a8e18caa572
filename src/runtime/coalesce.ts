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

/**
 * Collapses the emissions of one turn of the event loop into one, emitted on the next turn
 * (setImmediate, so I/O callbacks of this turn are included). Handlers that finish together free
 * their slots together: one claim then fills them all instead of going out for each.
 */
export function collapseToNextTurn<T>(): OperatorFunction<T, void> {
  return (source) =>
    new Observable<void>((subscriber) => {
      let scheduled: ReturnType<typeof setImmediate> | null = null;
      const subscription = source.subscribe({
        next: () => {
          if (scheduled) return;
          scheduled = setImmediate(() => {
            scheduled = null;
            subscriber.next();
          });
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        if (scheduled) clearImmediate(scheduled);
        subscription.unsubscribe();
      };
    });
}

/**
 * A periodic duty: `work` on every tick, never twice at once (coalesceRuns). stop() ends the ticks
 * and waits for a run in flight, so a service's last statement is not cut off by the pool closing.
 */
export function runOnTicks(ticks$: Observable<unknown>, work: () => Promise<unknown>, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let inFlight: Promise<unknown> = Promise.resolve();
  const subscription = ticks$.pipe(coalesceRuns(() => (inFlight = work()), onError)).subscribe();
  return {
    async stop() {
      subscription.unsubscribe();
      await inFlight.catch(() => {});
    },
  };
}
