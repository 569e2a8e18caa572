import { Subject } from "rxjs";
import { coalesceRuns } from "../../src/runtime/coalesce";
import { batchWhileBusy } from "../../src/runtime/batch-while-busy";
import { parseWorkNotification } from "../../src/model/channels";
import { resolveWorkerConfig } from "../../src/model/worker-config";

function controllablePromise() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("coalesceRuns", () => {
  test("wake-ups during a run collapse into exactly one more run", async () => {
    const wakes = new Subject<void>();
    const gates: ReturnType<typeof controllablePromise>[] = [];
    let runs = 0;
    const outputs: number[] = [];
    wakes
      .pipe(
        coalesceRuns(async () => {
          runs += 1;
          const gate = controllablePromise();
          gates.push(gate);
          await gate.promise;
          return runs;
        }, () => {}),
      )
      .subscribe((value) => outputs.push(value));
    wakes.next();
    wakes.next();
    wakes.next();
    wakes.next();
    expect(runs).toBe(1);
    gates[0].resolve();
    await flush();
    expect(runs).toBe(2); // the trailing wake-up is kept (exhaustMap would drop it)
    gates[1].resolve();
    await flush();
    expect(runs).toBe(2);
    expect(outputs).toEqual([1, 2]);
  });

  test("a failed run is reported and the stream goes on", async () => {
    const wakes = new Subject<void>();
    const errors: unknown[] = [];
    let calls = 0;
    const outputs: number[] = [];
    wakes
      .pipe(coalesceRuns(async () => {
        calls += 1;
        if (calls === 1) throw new Error("db away");
        return calls;
      }, (error) => errors.push(error)))
      .subscribe((value) => outputs.push(value));
    wakes.next();
    await flush();
    wakes.next();
    await flush();
    expect(errors).toHaveLength(1);
    expect(outputs).toEqual([2]);
  });
});

describe("batchWhileBusy", () => {
  test("writes the first item at once and batches what arrives during a write", async () => {
    const items = new Subject<number>();
    const batches: number[][] = [];
    const gates: ReturnType<typeof controllablePromise>[] = [];
    items
      .pipe(batchWhileBusy(async (batch: number[]) => {
        batches.push(batch);
        const gate = controllablePromise();
        gates.push(gate);
        await gate.promise;
      }, { maxBatch: 3, maxWaitMs: 0 }))
      .subscribe();
    items.next(1);
    await flush();
    items.next(2);
    items.next(3);
    items.next(4);
    items.next(5);
    expect(batches).toEqual([[1]]);
    gates[0].resolve();
    await flush();
    expect(batches).toEqual([[1], [2, 3, 4]]); // at most maxBatch
    gates[1].resolve();
    await flush();
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    gates[2].resolve();
  });

  test("retries a failed write with the same items and counts what was written", async () => {
    const items = new Subject<string>();
    const attempts: string[][] = [];
    const written: number[] = [];
    items
      .pipe(batchWhileBusy(async (batch: string[]) => {
        attempts.push(batch);
        if (attempts.length === 1) throw new Error("connection lost");
      }, { maxBatch: 10, maxWaitMs: 0, retryDelayMs: 1 }))
      .subscribe((n) => written.push(n));
    items.next("a");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(attempts).toEqual([["a"], ["a"]]);
    expect(written).toEqual([1]);
  });
});

test("parseWorkNotification reads queue|epochMs, queues may contain the separator", () => {
  expect(parseWorkNotification("default|1700000000000")).toEqual({ queue: "default", runAt: 1700000000000 });
  expect(parseWorkNotification("a|b|5")).toEqual({ queue: "a|b", runAt: 5 });
  expect(parseWorkNotification("garbage")).toBeNull();
  expect(parseWorkNotification("q|x")).toBeNull();
});

test("worker config: defaults, and errors naming the field", () => {
  expect(resolveWorkerConfig()).toMatchObject({ concurrency: 10, pollIntervalMs: 10_000, flushIntervalMs: 0, fetchBatchSize: 500, claimAheadMs: 100 });
  expect(resolveWorkerConfig({ concurrency: 3 }).fetchBatchSize).toBe(500);
  expect(resolveWorkerConfig({ concurrency: 800 }).fetchBatchSize).toBe(800);
  expect(() => resolveWorkerConfig({ claimAheadMs: -1 })).toThrow(/claimAheadMs must be a number of ms, 0 or more \(got -1\)/);
  expect(() => resolveWorkerConfig({ concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
  expect(() => resolveWorkerConfig({ pollIntervalMs: 1.5 })).toThrow(/pollIntervalMs/);
});
