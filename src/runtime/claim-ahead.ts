/**
 * How long this worker's handlers take lately, and from it how many executions its slots finish in
 * a stretch of time: the claim-ahead buffer is sized from it (producer.ts), so a worker holds a
 * short stretch of its own work, not a fixed count. Measured per execution rather than as a rate
 * of finishes, because a rate starts at zero (an idle worker that gets a backlog would take many
 * round trips to ramp up) while a handler's duration is known after its first run. Local time is
 * fine here: the figure never leaves this process.
 */
export class HandlerDurations {
  private averageMs: number | null = null;

  /** Weight of the newest duration: a change from fast to slow work shows within a few finishes. */
  constructor(private readonly weight = 0.2) {}

  record(durationMs: number): void {
    const ms = Math.max(0, durationMs);
    this.averageMs = this.averageMs === null ? ms : this.averageMs + this.weight * (ms - this.averageMs);
  }

  /** Average handler time (ms), or null before the first finish. */
  get average(): number | null {
    return this.averageMs;
  }
}

/**
 * Executions to hold beyond the free slots: what `concurrency` slots finish in `horizonMs` when each
 * execution takes `averageMs`, at most `maxAhead`. Nothing before the first finish (unknown work), and
 * a worker of slow handlers (fewer than one finish per horizon) claims only its slots.
 */
export function claimAhead(averageMs: number | null, concurrency: number, horizonMs: number, maxAhead: number): number {
  if (averageMs === null || maxAhead <= 0) return 0;
  // A no-op handler can measure 0 ms: a tenth of a millisecond is the floor.
  const finishes = Math.floor((concurrency * horizonMs) / Math.max(averageMs, 0.1));
  return Math.max(0, Math.min(maxAhead, finishes));
}

/**
 * Whether a held-but-full buffer is low enough to refill: when a slot is idle, always; otherwise
 * once half the ahead allowance is free, so refills come in batches, not one row per finish.
 */
export function shouldRefill(reserved: number, concurrency: number, ahead: number): boolean {
  if (reserved < concurrency) return true;
  return concurrency + ahead - reserved >= Math.max(1, Math.ceil(ahead / 2));
}
