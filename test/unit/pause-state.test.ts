import { PauseState, type PauseChange } from "../../src/runtime/pause-state";
import { withTimeout } from "../../src/runtime/attempt-timeout";
import { TaskTimeoutError } from "../../src/model/errors";

test("notifications and reloads keep the paused set, emitting only real changes", () => {
  const state = new PauseState();
  const changes: PauseChange[] = [];
  state.changes$.subscribe((change) => changes.push(change));
  expect(state.isEmpty).toBe(true);
  state.applyNotification("pause|queue|emails");
  state.applyNotification("pause|queue|emails");
  state.applyNotification("pause|task|a|b"); // names may hold the separator
  state.applyNotification("garbage");
  expect(state.isPaused("emails", "x")).toBe(true);
  expect(state.isPaused("other", "a|b")).toBe(true);
  expect(state.isPaused("other", "x")).toBe(false);
  state.replace([{ kind: "task", name: "a|b" }, { kind: "task", name: "sync" }]);
  expect(state.isPaused("emails", "x")).toBe(false);
  expect(state.isPaused("default", "sync")).toBe(true);
  state.applyNotification("resume|task|sync");
  expect(changes).toEqual([
    { paused: true, kind: "queue", name: "emails" },
    { paused: true, kind: "task", name: "a|b" },
    { paused: false, kind: "queue", name: "emails" },
    { paused: true, kind: "task", name: "sync" },
    { paused: false, kind: "task", name: "sync" },
  ]);
});

describe("attempt timeout", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test("an attempt past its limit aborts the signal and gives the timeout outcome", async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => {});
    const result = withTimeout(never, { taskName: "slow", ms: 500, controller }, (error) => error.message);
    jest.advanceTimersByTime(499);
    expect(controller.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    await expect(result).resolves.toBe('Task "slow" timed out after 500 ms (timeoutMs)');
    expect(controller.signal.reason).toBeInstanceOf(TaskTimeoutError);
  });

  test("an attempt that ends in time is untouched", async () => {
    const controller = new AbortController();
    const result = withTimeout(Promise.resolve("done"), { taskName: "fast", ms: 500, controller }, () => "timeout");
    await expect(result).resolves.toBe("done");
    jest.advanceTimersByTime(1000);
    expect(controller.signal.aborted).toBe(false);
  });
});
