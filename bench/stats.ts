/** Summary statistics for benchmark samples. */

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The p-th percentile (0..100) by linear interpolation between the two nearest ranks, so that
 * p50 of an even-sized sample is the mean of its middle pair and p0/p100 are min/max.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("percentile: no samples");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be between 0 and 100 (got ${p})`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("summarize: no samples");
  return {
    count: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
  };
}
