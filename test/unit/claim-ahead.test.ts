import { claimAhead, HandlerDurations, shouldRefill } from "../../src/runtime/claim-ahead";

test("handler durations: none before the first finish, then a moving average that follows a change", () => {
  const durations = new HandlerDurations(0.5);
  expect(durations.average).toBeNull();
  durations.record(10);
  expect(durations.average).toBe(10);
  durations.record(30);
  expect(durations.average).toBe(20);
  durations.record(-5); // a clock step back counts as 0
  expect(durations.average).toBe(10);
});

test("claimAhead: what the slots finish in the horizon, capped; nothing for unknown or slow work", () => {
  expect(claimAhead(null, 10, 100, 490)).toBe(0);
  expect(claimAhead(10, 10, 100, 490)).toBe(100); // 10 slots × 100 ms / 10 ms
  expect(claimAhead(0, 10, 100, 490)).toBe(490); // no-op handlers: the cap
  expect(claimAhead(2_000, 10, 100, 490)).toBe(0); // 2 s handlers: half a finish per horizon
  expect(claimAhead(1, 10, 100, -5)).toBe(0);
});

test("shouldRefill: always with an idle slot; otherwise once half the allowance is free", () => {
  expect(shouldRefill(9, 10, 0)).toBe(true);
  expect(shouldRefill(10, 10, 0)).toBe(false);
  expect(shouldRefill(100, 10, 90)).toBe(false);
  expect(shouldRefill(56, 10, 90)).toBe(false);
  expect(shouldRefill(55, 10, 90)).toBe(true);
});
