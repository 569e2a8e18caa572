import { asyncScheduler, distinctUntilChanged, filter, map, scan, switchMap, timer, type Observable, type SchedulerLike } from "rxjs";

/** setTimeout fires at once for delays above 2^31-1 ms (24.8 days): wake early and re-arm instead. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * Emits when the earliest known future time (epoch ms) is reached. Candidates may arrive in any
 * order; a later candidate never delays an armed earlier one, an earlier one re-arms the timer.
 * After it fires, the next candidate arms it again.
 */
export function dueTimer(candidates$: Observable<number>, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  const now = () => scheduler.now();
  return candidates$.pipe(
    filter((at) => Number.isFinite(at)),
    scan<number, number | null>((armed, at) => (armed === null || armed <= now() || at < armed ? at : armed), null),
    filter((at): at is number => at !== null),
    distinctUntilChanged(),
    switchMap((at) => timer(Math.min(Math.max(0, at - now()), MAX_TIMER_DELAY_MS), scheduler).pipe(map(() => at))),
  );
}
