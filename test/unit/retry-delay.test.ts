import { retryAfterOf, retryDelayMs } from "../../src/runtime/retry-delay";

const policy = { initialMs: 100, factor: 3, maxMs: 2000, jitter: 0 };

test("exponential delays capped at maxMs", () => {
  expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(policy, attempt, null))).toEqual([100, 300, 900, 2000, 2000]);
});

test("without a policy the database's default backoff applies (null)", () => {
  expect(retryDelayMs(null, 1, null)).toBeNull();
});

test("jitter takes up to its fraction off each delay", () => {
  const jittered = { ...policy, jitter: 0.5 };
  expect(retryDelayMs(jittered, 2, null, () => 0)).toBe(300);
  expect(retryDelayMs(jittered, 2, null, () => 1)).toBe(150);
  expect(retryDelayMs(jittered, 2, null, () => 0.5)).toBe(225);
});

test("an error's retryAfterMs wins over the policy and the default", () => {
  const error = Object.assign(new Error("429"), { retryAfterMs: 1234 });
  expect(retryAfterOf(error)).toBe(1234);
  expect(retryDelayMs(policy, 1, retryAfterOf(error))).toBe(1234);
  expect(retryDelayMs(null, 1, retryAfterOf(error))).toBe(1234);
  expect(retryAfterOf(Object.assign(new Error(), { retryAfterMs: "5" }))).toBeNull();
  expect(retryAfterOf(Object.assign(new Error(), { retryAfterMs: -1 }))).toBeNull();
  expect(retryAfterOf("plain string")).toBeNull();
});
