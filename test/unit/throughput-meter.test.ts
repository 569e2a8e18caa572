import { claimAhead, shouldRefill, ThroughputMeter } from "../../src/runtime/throughput-meter";

test("the meter counts the last window's finishes per second, and forgets after two windows", () => {
  let now = 0;
  const meter = new ThroughputMeter(500, () => now);
  expect(meter.perSecond()).toBe(0);
  meter.record(100);
  expect(meter.perSecond()).toBe(200);
  now = 750; // the first window is half behind us
  expect(meter.perSecond()).toBe(100);
  meter.record(50);
  expect(meter.perSecond()).toBe(200);
  now = 2_000;
  expect(meter.perSecond()).toBe(0);
});

test("claimAhead: the horizon's worth of the rate, capped, never negative", () => {
  expect(claimAhead(0, 100, 490)).toBe(0);
  expect(claimAhead(1_000, 100, 490)).toBe(100);
  expect(claimAhead(20_000, 100, 490)).toBe(490);
  expect(claimAhead(5, 100, 490)).toBe(0); // less than one execution per horizon: none ahead
  expect(claimAhead(1_000, 100, -5)).toBe(0);
});

test("shouldRefill: always with an idle slot; otherwise once half the allowance is free", () => {
  expect(shouldRefill(9, 10, 0)).toBe(true);
  expect(shouldRefill(10, 10, 0)).toBe(false);
  expect(shouldRefill(100, 10, 90)).toBe(false);
  expect(shouldRefill(56, 10, 90)).toBe(false);
  expect(shouldRefill(55, 10, 90)).toBe(true);
});
