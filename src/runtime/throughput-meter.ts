/**
 * How many executions per second this worker has been finishing lately: the claim-ahead buffer is
 * sized from it (producer.ts), so a worker holds a short stretch of its own recent work, not a
 * fixed count. A sliding-window counter: the previous window's count, weighted by how much of it
 * still overlaps the last `windowMs`, plus the current one. Local time is fine here: the figure
 * never leaves this process.
 */
export class ThroughputMeter {
  private current = 0;
  private previous = 0;
  private windowStart: number;

  constructor(
    private readonly windowMs = 500,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  record(count = 1): void {
    this.roll();
    this.current += count;
  }

  perSecond(): number {
    const elapsed = this.roll();
    const overlap = 1 - elapsed / this.windowMs;
    return ((this.previous * overlap + this.current) * 1000) / this.windowMs;
  }

  /** Moves to the window holding now; returns how far into it now is. */
  private roll(): number {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs) return elapsed;
    this.previous = elapsed < 2 * this.windowMs ? this.current : 0;
    this.current = 0;
    this.windowStart = now - (elapsed % this.windowMs);
    return elapsed % this.windowMs;
  }
}

/**
 * Executions to hold beyond the free slots: what this worker finishes in `horizonMs` at its recent
 * rate, at most `maxAhead`. A worker of slow handlers (or one just started) claims only its slots.
 */
export function claimAhead(perSecond: number, horizonMs: number, maxAhead: number): number {
  return Math.max(0, Math.min(maxAhead, Math.floor((perSecond * horizonMs) / 1000)));
}

/**
 * Whether a held-but-full buffer is low enough to refill: when a slot is idle, always; otherwise
 * once half the ahead allowance is free, so refills come in batches, not one row per finish.
 */
export function shouldRefill(reserved: number, concurrency: number, ahead: number): boolean {
  if (reserved < concurrency) return true;
  return concurrency + ahead - reserved >= Math.max(1, Math.ceil(ahead / 2));
}
