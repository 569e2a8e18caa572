/**
 * Alerting on failures with a pipeline over executions: failed attempts per task in a sliding
 * window (a minute, re-counted every 10 s), and an alert when a task crosses a threshold, at most
 * one per task per window. It runs beside your workers or in a process of its own: the events
 * come from the database, not from a worker.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/failure-alerts.ts
 */
import { asyncScheduler, bufferTime, filter, groupBy, map, mergeMap, throttleTime, type Observable, type SchedulerLike } from "rxjs";
import { Conductor, TaskSchemas, type ExecutionEvent } from "pgconductor-js";

export interface FailureAlert {
  task: string;
  /** Failed attempts (retries included) within the window. */
  failures: number;
  windowMs: number;
  lastError: string | undefined;
}

export interface FailureAlertOptions {
  /** Length of the sliding window (default one minute). */
  windowMs?: number;
  /** How often the window is re-counted (default 10 s). */
  everyMs?: number;
  /** Alert when a task has at least this many failed attempts in a window (default 5). */
  threshold?: number;
}

export function failureAlerts(
  events$: Observable<ExecutionEvent>,
  { windowMs = 60_000, everyMs = 10_000, threshold = 5 }: FailureAlertOptions = {},
  scheduler: SchedulerLike = asyncScheduler,
): Observable<FailureAlert> {
  return events$.pipe(
    filter((event) => event.kind === "failed" || event.kind === "retrying"),
    // A new window every `everyMs`, each `windowMs` long: failures close together share a window.
    bufferTime(windowMs, everyMs, Number.POSITIVE_INFINITY, scheduler),
    mergeMap((window) => countByTask(window)),
    filter((count) => count.failures >= threshold),
    map((count) => ({ ...count, windowMs })),
    // Overlapping windows see the same failures: one alert per task per window.
    groupBy((alert) => alert.task),
    mergeMap((perTask) => perTask.pipe(throttleTime(windowMs, scheduler))),
  );
}

function countByTask(window: ExecutionEvent[]): Omit<FailureAlert, "windowMs">[] {
  const counts = new Map<string, { failures: number; lastError: string | undefined }>();
  for (const event of window) {
    const count = counts.get(event.task) ?? { failures: 0, lastError: undefined };
    count.failures += 1;
    count.lastError = event.error;
    counts.set(event.task, count);
  }
  return [...counts].map(([task, count]) => ({ task, ...count }));
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("set DATABASE_URL to the database your workers use");
  // Observing needs no task definitions: an empty registry is enough.
  const conductor = Conductor.create({ connectionString: url, tasks: TaskSchemas.fromTypes<[]>(), context: {} });
  const subscription = failureAlerts(conductor.observe(), { threshold: Number(process.env.THRESHOLD ?? 5) }).subscribe((alert) => {
    console.log(`ALERT ${alert.task}: ${alert.failures} failed attempts in the last ${alert.windowMs / 1000} s (last error: ${alert.lastError})`);
  });
  console.log("watching for failures (Ctrl-C to stop)");
  process.once("SIGINT", () => {
    subscription.unsubscribe();
    void conductor.close();
  });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
