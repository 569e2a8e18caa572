import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from "rxjs";

/** setTimeout fires at once for delays above 2^31-1 ms (24.8 days): wake early and re-arm instead. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** How many future times are remembered; later ones are found again by the sweep's next-run lookup. */
const MAX_PENDING = 1_000;

/**
 * Emits when a known future time (epoch ms) is reached. Candidates may arrive in any order; every
 * one is kept (up to MAX_PENDING, earliest first), so after the timer fires for one time it arms for
 * the next — two delayed jobs due a second apart both start on time without waiting for a sweep.
 * Times that fall due together produce one emission (the latest of them).
 */
export function dueTimer(candidates$: Observable<number>, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  return new Observable<number>((subscriber) => {
    const pending: number[] = []; // ascending, unique
    let armed: { at: number; action: Subscription } | null = null;

    const arm = () => {
      const next = pending[0];
      if (armed && armed.at === next) return;
      armed?.action.unsubscribe();
      armed = null;
      if (next === undefined) return;
      const delay = Math.min(Math.max(0, next - scheduler.now()), MAX_TIMER_DELAY_MS);
      armed = { at: next, action: scheduler.schedule(fire, delay) };
    };
    const fire = () => {
      armed = null;
      const now = scheduler.now();
      let due: number | undefined;
      while (pending.length > 0 && pending[0] <= now) due = pending.shift();
      if (due !== undefined) subscriber.next(due);
      arm();
    };
    const add = (at: number) => {
      if (!Number.isFinite(at)) return;
      const index = sortedIndex(pending, at);
      if (pending[index] === at) return;
      pending.splice(index, 0, at);
      if (pending.length > MAX_PENDING) pending.pop();
      arm();
    };

    const subscription = candidates$.subscribe({ next: add, error: (error) => subscriber.error(error) });
    return () => {
      subscription.unsubscribe();
      armed?.action.unsubscribe();
    };
  });
}

function sortedIndex(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
