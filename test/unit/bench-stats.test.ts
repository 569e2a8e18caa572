import { percentile, summarize } from "../../bench/stats";
import { formatTable } from "../../bench/table";

describe("percentile", () => {
  test("interpolates between the nearest ranks", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 50)).toBe(30);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48);
    expect(percentile([0, 100], 99)).toBeCloseTo(99);
  });

  test("p0 and p100 are the smallest and largest sample, whatever the input order", () => {
    const samples = [7, 3, 9, 1, 5];
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 100)).toBe(9);
    expect(percentile(samples, 50)).toBe(5);
    expect(samples).toEqual([7, 3, 9, 1, 5]); // the caller's array is left as it was
  });

  test("a single sample is every percentile", () => {
    expect(percentile([4.2], 1)).toBe(4.2);
    expect(percentile([4.2], 99)).toBe(4.2);
  });

  test("no samples, or p outside 0..100, is an error naming the rule", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 101)).toThrow(/between 0 and 100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/between 0 and 100/);
  });
});

test("summarize gives count, extremes, mean and the reported percentiles", () => {
  const samples = Array.from({ length: 101 }, (_, i) => 100 - i); // 100 down to 0
  expect(summarize(samples)).toEqual({ count: 101, min: 0, max: 100, mean: 50, p50: 50, p95: 95, p99: 99 });
  expect(() => summarize([])).toThrow(/no samples/);
});

test("formatTable pads the first column left and the figures right", () => {
  const text = formatTable(["system", "jobs/s"], [["ours", "1200"], ["graphile-worker", "950"]]);
  expect(text.split("\n")).toEqual([
    "system           jobs/s",
    "---------------  ------",
    "ours               1200",
    "graphile-worker     950",
  ]);
});
