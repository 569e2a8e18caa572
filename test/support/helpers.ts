import type { Sql } from "postgres";

/** Waits until `check` returns a truthy value (re-checked every 20 ms), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, { timeoutMs = 15_000, what = "condition" } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A promise with its resolve function, for handlers to report to a test. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export async function executionRow(sql: Sql, id: string) {
  const [row] = await sql`select * from pgconductor.executions where id = ${id}`;
  return row;
}

export async function statusOf(sql: Sql, id: string): Promise<string> {
  return (await executionRow(sql, id))?.status;
}

/** Makes a delayed execution (a retry backoff) due now and wakes its queue, instead of waiting for it. */
export async function makeDueNow(sql: Sql, id: string) {
  await sql`update pgconductor.executions set run_at = now() where id = ${id}`;
  await sql`select pgconductor.notify_work(queue, now()) from pgconductor.executions where id = ${id}`;
}

export const hour = 60 * 60 * 1000;

/** Orchestrators a test started, stopped after each test even when it failed half-way. */
export function trackOrchestrators() {
  const started: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((orchestrator) => orchestrator.stop()));
  });
  return <T extends { stop(): Promise<void> }>(orchestrator: T): T => {
    started.push(orchestrator);
    return orchestrator;
  };
}
