import { TestScheduler } from "rxjs/testing";
import { failureAlerts } from "../../examples/failure-alerts";
import type { ExecutionEvent } from "../../src/model/execution-event";

const failure = (task: string, error = "boom"): ExecutionEvent => ({
  kind: "failed", task, error, executionId: "00000000-0000-0000-0000-000000000000", queue: "default", attempt: 1, at: new Date(0),
});
const started = (task: string): ExecutionEvent => ({ ...failure(task), kind: "started", error: undefined });

test("alerts once per task and window when failures in a sliding window reach the threshold", () => {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(({ hot, expectObservable }) => {
    // window 100 ms re-counted every 20 ms; threshold 3. "a" fails three times within 30 ms; "b" twice; starts do not count.
    const events = hot<ExecutionEvent>("5ms a 9ms a 9ms a 9ms b 9ms b 9ms s 200ms a", {
      a: failure("a", "disk full"), b: failure("b"), s: started("a"),
    });
    const alerts = failureAlerts(events, { windowMs: 100, everyMs: 20, threshold: 3 }, scheduler);
    // The window opened at 0 closes at 100 with all three failures of "a": one alert, then quiet for 100 ms.
    expectObservable(alerts, "^ 400ms !").toBe("100ms x", {
      x: { task: "a", failures: 3, windowMs: 100, lastError: "disk full" },
    });
  });
});
