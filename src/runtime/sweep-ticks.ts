/**
 * The worker's safety sweep: every `pollIntervalMs`, or every `degradedMs` while push does not
 * deliver (behind a transaction pooler, a lost listener), so latency stays bounded without LISTEN.
 * Switching restarts the interval.
 */
import { distinctUntilChanged, interval, switchMap, type Observable } from "rxjs";

export function sweepTicks(pollIntervalMs: number, pushDegraded$?: Observable<boolean>, degradedMs?: number): Observable<number> {
  if (!pushDegraded$ || degradedMs === undefined) return interval(pollIntervalMs);
  return pushDegraded$.pipe(
    distinctUntilChanged(),
    switchMap((degraded) => (degraded && degradedMs < pollIntervalMs ? interval(degradedMs) : interval(pollIntervalMs))),
  );
}

