/** Helpers shared by the throughput workloads: count handler starts, time one bulk batch. */
import type { BenchJob, QueueSystem } from "../systems/system";

/** Resolves `expect(n)` once `hit()` has been called n times since. */
export class Countdown {
  private remaining = 0;
  private done: (() => void) | null = null;

  expect(n: number): Promise<void> {
    this.remaining = n;
    return new Promise((resolve) => (this.done = resolve));
  }

  hit = (): void => {
    this.remaining -= 1;
    if (this.remaining === 0) this.done?.();
  };
}

export interface BatchTiming {
  jobs: number;
  /** The bulk enqueue call (one statement). */
  enqueueMs: number;
  /** From the enqueue's return until every job's handler ran and the database shows all finished. */
  runMs: number;
}

export async function timeBatch(system: QueueSystem, countdown: Countdown, n: number, firstSeq: number): Promise<BatchTiming> {
  const jobs: BenchJob[] = Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i }));
  const handled = countdown.expect(n);
  const t0 = performance.now();
  await system.enqueueBatch(jobs);
  const t1 = performance.now();
  await withTimeout(handled, 180_000, `${n} handlers to start`);
  await waitUntilFinished(system);
  return { jobs: n, enqueueMs: t1 - t0, runMs: performance.now() - t1 };
}

/** Polls the database every few ms: completion writes come after the handler and may be batched. */
export async function waitUntilFinished(system: QueueSystem, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await system.unfinished()) > 0) {
    if (Date.now() > deadline) throw new Error(`jobs still unfinished after ${timeoutMs} ms`);
    await delay(3);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
