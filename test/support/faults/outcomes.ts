/**
 * Counting what a fault did to a run: every execution invoked must end (completed, or failed or
 * cancelled when the test says so), none may have started twice, and none may be left `pending` or
 * `running`. The handler reports each start (`started(ctx.executionId)`); the end states are read
 * from the tables.
 *
 * Waiting is driven by events: the `pgconductor_events` channel, on a connection of its own, triggers
 * a recount after each batch of events, and every (re)LISTEN triggers one too (events sent while it
 * was down are lost). A slow safety recount covers a connection that dies silently, as it may in a
 * fault test; it never decides on its own, it only re-reads the table.
 */
import postgres, { type Sql } from "postgres";
import { EVENTS_CHANNEL } from "../../../src/model/channels";

export type Status = "pending" | "running" | "completed" | "failed" | "cancelled";

export interface StatusCounts {
  pending: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface OutcomeReport {
  invoked: number;
  counts: StatusCounts;
  /** Ids whose handler started more than once in this process (with how many starts). */
  startedTwice: Map<string, number>;
  /** Ids that never started in this process (useful when only this process runs them). */
  neverStarted: string[];
  /** Executions whose `attempts` is above 1 (a retry or a takeover happened). */
  retried: number;
}

export interface OutcomeCounter {
  /** Call first thing in the handler. */
  started(executionId: string): void;
  /** How many times the handler of `id` started here. */
  startsOf(executionId: string): number;
  /** Adds ids to the run (what invoke returned). */
  track(ids: readonly string[]): void;
  readonly ids: readonly string[];
  /**
   * Resolves when every tracked execution is in a terminal state (`completed` unless `terminal` says
   * otherwise); rejects after `timeoutMs` with the counts and a sample of what is left, so a stuck
   * execution shows up by id, status and holder.
   */
  waitForAll(options?: { timeoutMs?: number; terminal?: readonly Status[] }): Promise<OutcomeReport>;
  /** The counts now. */
  report(): Promise<OutcomeReport>;
  close(): Promise<void>;
}

const EMPTY: StatusCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

/**
 * `url` must reach the database directly (not through the test's proxy or pooler), so the counting
 * connection is not itself the victim of the fault.
 */
export function countOutcomes(url: string, options: { safetyRecountMs?: number } = {}): OutcomeCounter {
  const starts = new Map<string, number>();
  const tracked: string[] = [];
  const sql: Sql = postgres(url, { max: 2, onnotice: () => {}, backoff: () => 0.2, connect_timeout: 5 });
  let listening: Promise<unknown> | null = null;
  const wakers = new Set<() => void>();
  const wakeAll = () => wakers.forEach((wake) => wake());

  const ensureListening = () => {
    listening ??= sql.listen(EVENTS_CHANNEL, wakeAll, wakeAll).catch(() => (listening = null));
    return listening;
  };

  const read = async (): Promise<OutcomeReport> => {
    const rows = await sql<{ status: Status; n: number; retried: number }[]>`
      select status, count(*)::int as n, count(*) filter (where attempts > 1)::int as retried
      from pgconductor.executions where id = any(${tracked}::uuid[]) group by status`;
    const counts = { ...EMPTY };
    let retried = 0;
    for (const row of rows) {
      counts[row.status] = row.n;
      retried += row.retried;
    }
    const startedTwice = new Map([...starts].filter(([, n]) => n > 1));
    const neverStarted = tracked.filter((id) => !starts.has(id));
    return { invoked: tracked.length, counts, startedTwice, neverStarted, retried };
  };

  const leftover = async () => {
    const rows = await sql<{ id: string; status: string; attempts: number; locked_by: string | null; locked_at: Date | null; run_at: Date }[]>`
      select id, status, attempts, locked_by, locked_at, run_at from pgconductor.executions
      where id = any(${tracked}::uuid[]) and status in ('pending', 'running') order by status, id limit 10`;
    return rows.map((r) => `${r.id} ${r.status} attempts=${r.attempts} locked_by=${r.locked_by} locked_at=${r.locked_at?.toISOString()} run_at=${r.run_at.toISOString()}`).join("\n  ");
  };

  return {
    started(executionId) {
      starts.set(executionId, (starts.get(executionId) ?? 0) + 1);
    },
    startsOf(executionId) {
      return starts.get(executionId) ?? 0;
    },
    track(ids) {
      tracked.push(...ids);
    },
    get ids() {
      return tracked;
    },
    report: read,
    async waitForAll({ timeoutMs = 60_000, terminal = ["completed"] } = {}) {
      const deadline = Date.now() + timeoutMs;
      let last: OutcomeReport | null = null;
      let lastError: unknown = null;
      for (;;) {
        void ensureListening();
        // Arm the waker before reading, so an event during the read is not missed.
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        wakers.add(wake);
        const safety = setTimeout(wake, options.safetyRecountMs ?? 1_000);
        try {
          last = await read();
          lastError = null;
          const done = terminal.reduce((sum, status) => sum + last!.counts[status as Status], 0);
          if (done === last.invoked) return last;
        } catch (error) {
          lastError = error; // the database may be down in this test: read again on the next wake-up
        }
        if (Date.now() > deadline) {
          clearTimeout(safety);
          wakers.delete(wake);
          const detail = await leftover().catch((error) => `(could not read: ${String(error)})`);
          throw new Error(
            `not every execution reached ${terminal.join("/")} within ${timeoutMs} ms: ` +
              `${JSON.stringify(last?.counts ?? null)} of ${tracked.length}` +
              (lastError ? `; last read failed: ${String(lastError)}` : "") +
              `\n  ${detail}`,
          );
        }
        await woken;
        clearTimeout(safety);
        wakers.delete(wake);
      }
    },
    async close() {
      await sql.end({ timeout: 1 });
    },
  };
}

/** Invokes `n` executions of `ref` in batches of `batchSize` (one transaction each); returns their ids. */
export async function invokeMany(
  conductor: { invoke(ref: { name: string }, items: { payload: unknown }[]): Promise<string[] | unknown> },
  ref: { name: string },
  n: number,
  payload: (i: number) => unknown = (i) => ({ i }),
  batchSize = 500,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const items = Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => ({ payload: payload(start + k) }));
    ids.push(...((await conductor.invoke(ref, items)) as string[]));
  }
  return ids;
}

/** The assertions every fault test makes: invoked = completed, none started twice, none left behind. */
export function expectExactlyOnce(report: OutcomeReport, { allStartedHere = true } = {}): void {
  expect(report.counts).toEqual({ ...EMPTY, completed: report.invoked });
  expect([...report.startedTwice]).toEqual([]);
  if (allStartedHere) expect(report.neverStarted).toEqual([]);
}
