import { Producer } from "../../src/runtime/producer";
import { TaskControls } from "../../src/runtime/task-controls";
import type { ClaimedExecution } from "../../src/db/claim";
import type { Task } from "../../src/model/task";
import { MemoryWorkerOps } from "../support/memory-worker-ops";
import { task, turns } from "../support/worker-fixtures";

interface ProducerOptions {
  concurrency: number;
  fetchBatchSize?: number;
  ops?: MemoryWorkerOps;
  claimRetryMs?: number;
  claimAheadMs?: number;
  claimAnswerTimeoutMs?: number;
}

function producer(tasks: Task[], options: ProducerOptions) {
  const ops = options.ops ?? new MemoryWorkerOps();
  const claimed: ClaimedExecution[] = [];
  const errors: unknown[] = [];
  const p = new Producer({
    ops,
    queue: "default",
    controls: new TaskControls(tasks),
    concurrency: options.concurrency,
    fetchBatchSize: options.fetchBatchSize ?? options.concurrency,
    onClaimed: (execution) => claimed.push(execution),
    onWindowOpening: () => {},
    onReleased: () => {},
    onError: (error) => errors.push(error),
    claimRetryMs: options.claimRetryMs,
    claimAheadMs: options.claimAheadMs,
    claimAnswerTimeoutMs: options.claimAnswerTimeoutMs,
  });
  return { p, ops, claimed, errors };
}

const limits = (ops: MemoryWorkerOps) => ops.calls.flatMap((c) => (c.op === "claim" || c.op === "claimLimited" ? [c.limit] : []));

describe("producer", () => {
  test("a failed claim is tried again after claimRetryMs, with no other wake-up", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const ops = new MemoryWorkerOps();
      ops.add("t", 2);
      const claim = ops.claim.bind(ops);
      let failures = 1;
      ops.claim = async (...args: Parameters<MemoryWorkerOps["claim"]>) => {
        if (failures-- > 0) throw new Error("connection reset");
        return claim(...args);
      };
      const { p, claimed, errors } = producer([task("t")], { concurrency: 5, ops, claimRetryMs: 1_000 });
      p.start();
      await turns();
      expect(errors).toHaveLength(1);
      expect(claimed).toHaveLength(0);
      jest.advanceTimersByTime(999);
      await turns();
      expect(claimed).toHaveLength(0);
      jest.advanceTimersByTime(1);
      await turns();
      expect(claimed.map((e) => e.id)).toEqual(["e1", "e2"]);
      p.stop();
      p.close();
    } finally {
      jest.useRealTimers();
    }
  });

  test("a claim never answered is given up after claimAnswerTimeoutMs and tried again; its late rows are not run", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const ops = new MemoryWorkerOps();
      ops.add("t", 3);
      ops.holdClaims = true; // the first claim's answer never comes (until released below)
      const { p, claimed, errors } = producer([task("t")], { concurrency: 5, ops, claimRetryMs: 1_000, claimAnswerTimeoutMs: 10_000 });
      p.start();
      await turns();
      expect(ops.claimsHeld).toBe(1);
      jest.advanceTimersByTime(10_000);
      await turns();
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/not answered within 10000 ms/);
      expect(p.running).toBe(0);
      ops.holdClaims = false;
      ops.add("t", 2);
      jest.advanceTimersByTime(1_000);
      await turns();
      expect(claimed).toHaveLength(5); // the retry claimed what was pending (the stand-in locks rows when it answers)
      ops.add("t", 1);
      ops.releaseClaim(); // the abandoned claim answers at last, with a row: dropped, not run here
      await turns();
      expect(claimed.map((e) => e.id)).toEqual(["e1", "e2", "e3", "e4", "e5"]);
      p.stop();
      p.close();
    } finally {
      jest.useRealTimers();
    }
  });

  test("claims fill the free slots and no more", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 5);
    const { p, claimed } = producer([task("t")], { concurrency: 3, ops });
    p.start();
    await turns();
    expect(claimed.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
    expect(p.running).toBe(3);
    expect(limits(ops)).toEqual([3]); // full, but no slot free: no claim goes out
    p.release();
    await turns();
    expect(limits(ops)).toEqual([3, 1]);
    expect(claimed).toHaveLength(4);
  });

  test("claim-ahead: after fast finishes a worker holds what its slots finish in claimAheadMs, refilled in batches", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 1_000);
    const { p, claimed } = producer([task("t")], { concurrency: 2, fetchBatchSize: 50, claimAheadMs: 100, ops });
    p.start();
    await turns();
    expect(limits(ops)).toEqual([2]); // no handler has finished: only the free slots
    p.release(5); // 5 ms handlers: 2 slots finish 40 in 100 ms
    await turns();
    expect(limits(ops)).toEqual([2, 41]);
    expect(p.running).toBe(42);
    // A full buffer does not claim for every finish, only once half the allowance (20) is free.
    for (let i = 0; i < 19; i++) p.release(5);
    await turns();
    expect(limits(ops)).toEqual([2, 41]);
    p.release(5);
    await turns();
    expect(limits(ops)).toEqual([2, 41, 20]);
    expect(claimed.length).toBe(new Set(claimed.map((e) => e.id)).size);
    p.stop();
    p.close();
  });

  test("claim-ahead stops when the work turns slow: each finish then claims only the slot it freed", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 1_000);
    const { p } = producer([task("t")], { concurrency: 2, fetchBatchSize: 50, claimAheadMs: 100, ops });
    p.start();
    await turns();
    p.release(5);
    await turns();
    const held = p.running;
    expect(held).toBe(42);
    for (let i = 0; i < held; i++) {
      p.release(1_000);
      await turns();
    }
    expect(limits(ops).slice(-2)).toEqual([1, 1]);
    expect(p.running).toBe(2);
    p.stop();
    p.close();
  });

  test("limited tasks only ever fill free slots; what is claimed ahead comes from the unlimited tasks", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("limited", 100);
    ops.add("free", 100);
    const { p, claimed } = producer([task("limited", { concurrency: 5 }), task("free")], { concurrency: 2, fetchBatchSize: 50, claimAheadMs: 100, ops });
    p.start();
    await turns();
    for (let i = 0; i < 10; i++) {
      p.release(1);
      await turns();
    }
    const limitedClaims = ops.callsOf("claimLimited");
    expect(limitedClaims.length).toBeGreaterThan(0);
    expect(Math.max(...limitedClaims.map((c) => c.limit))).toBeLessThanOrEqual(2);
    const ahead = ops.callsOf("claim");
    expect(ahead.length).toBeGreaterThan(0);
    expect(ahead.every((c) => c.taskKeys.length === 1 && c.taskKeys[0] === "free")).toBe(true);
    expect(p.running).toBeGreaterThan(2);
    expect(claimed.length).toBe(new Set(claimed.map((e) => e.id)).size);
    p.stop();
    p.close();
  });

  test("a worker whose only tasks are limited claims only its free slots, however fast the handlers", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 500);
    const { p } = producer([task("t", { concurrency: 5 })], { concurrency: 2, fetchBatchSize: 50, claimAheadMs: 100, ops });
    p.start();
    await turns();
    for (let i = 0; i < 20; i++) {
      p.release(1);
      await turns();
    }
    expect(Math.max(...limits(ops))).toBe(2);
    expect(p.running).toBeLessThanOrEqual(2);
    p.stop();
    p.close();
  });

  test("a full claim claims again at once; a short one waits for a wake-up", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 10);
    const { p, claimed } = producer([task("t")], { concurrency: 20, fetchBatchSize: 4, ops });
    p.start();
    await turns();
    expect(limits(ops)).toEqual([4, 4, 4]);
    expect(claimed).toHaveLength(10);
    expect(p.currentMode.name).toBe("waiting");
    for (let i = 0; i < 10; i++) p.release();
    await turns();
    expect(limits(ops)).toEqual([4, 4, 4]); // freed slots alone do not claim an empty queue
    ops.add("t", 1);
    p.signal();
    await turns();
    expect(claimed).toHaveLength(11);
  });

  test("wake-ups during a claim collapse into one more claim", async () => {
    const ops = new MemoryWorkerOps();
    ops.holdClaims = true;
    const { p } = producer([task("t")], { concurrency: 5, ops });
    p.start();
    await turns();
    expect(ops.claimsHeld).toBe(1);
    for (let i = 0; i < 5; i++) p.signal();
    expect(p.currentMode).toMatchObject({ name: "claiming", signalled: true });
    ops.releaseClaim();
    await turns();
    expect(ops.claimsHeld).toBe(1);
    ops.releaseClaim();
    await turns();
    expect(ops.claimsHeld).toBe(0);
    expect(ops.callsOf("claim")).toHaveLength(2);
  });

  test("slots freed in one turn are filled by one claim", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 8);
    const { p } = producer([task("t")], { concurrency: 4, ops });
    p.start();
    await turns();
    expect(limits(ops)).toEqual([4]);
    for (let i = 0; i < 4; i++) p.release();
    await turns();
    expect(limits(ops)).toEqual([4, 4]);
  });

  test("a stopped producer claims nothing", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 4);
    const { p } = producer([task("t")], { concurrency: 2, ops });
    p.start();
    await turns();
    p.stop();
    p.release();
    p.signal();
    await turns();
    expect(limits(ops)).toEqual([2]);
    expect(p.stopped).toBe(true);
  });

  test("a failed claim frees its reservation and claims again on the next wake-up", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("t", 2);
    const failing = Object.assign(ops, { claim: jest.fn().mockRejectedValueOnce(new Error("db away")).mockImplementation(MemoryWorkerOps.prototype.claim.bind(ops)) });
    const { p, errors, claimed } = producer([task("t")], { concurrency: 2, ops: failing });
    p.start();
    await turns();
    expect(errors).toHaveLength(1);
    expect(p.running).toBe(0);
    expect(p.currentMode).toMatchObject({ name: "due", external: true });
    p.signal();
    await turns();
    expect(claimed).toHaveLength(2);
  });

  test("limited tasks go through the limited claim, and re-claims skip them once they came back empty", async () => {
    const ops = new MemoryWorkerOps();
    ops.add("plain", 6);
    const { p } = producer([task("plain"), task("limited", { concurrency: 1 })], { concurrency: 2, ops });
    p.start();
    await turns();
    // Full claims of only "plain": the one after the first skips the limited task.
    const calls = ops.callsOf("claimLimited");
    expect(calls[0].limited).toEqual(["limited"]);
    p.release();
    p.release();
    await turns();
    const later = ops.callsOf("claimLimited");
    expect(later.length).toBeGreaterThan(1);
    expect(later[later.length - 1].limited).toEqual([]);
    p.signal(); // an outside wake-up counts them again, at the next free slot
    p.release();
    await turns();
    expect(ops.callsOf("claimLimited").at(-1)!.limited).toEqual(["limited"]);
  });
});
