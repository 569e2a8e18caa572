import { Completer } from "../../src/runtime/completer";
import { TaskControls } from "../../src/runtime/task-controls";
import type { Task } from "../../src/model/task";
import { MemoryWorkerOps } from "../support/memory-worker-ops";
import { silentLogger, task, turns } from "../support/worker-fixtures";

function completer(tasks: Task[], options: { canClaim?: boolean; flushIntervalMs?: number } = {}) {
  const ops = new MemoryWorkerOps();
  let claimAgain = 0;
  let written = 0;
  const c = new Completer({
    ops,
    queue: "default",
    controls: new TaskControls(tasks),
    flushIntervalMs: options.flushIntervalMs ?? 0,
    logger: silentLogger,
    canClaim: () => options.canClaim ?? true,
    claimAgain: () => (claimAgain += 1),
  });
  c.start();
  c.written.subscribe(() => (written += 1));
  return { c, ops, claims: () => claimAgain, written: () => written };
}

const complete = (id: string) => ({ kind: "complete" as const, id, result: null });

describe("completer", () => {
  test("outcomes that arrive while a write is in flight go out together in the next one", async () => {
    const { c, ops, written } = completer([task("t")]);
    ops.add("t", 6);
    ops.holdWrites = true;
    c.add(complete("e1"), "t");
    await turns();
    expect(ops.writesHeld).toBe(1);
    for (const id of ["e2", "e3", "e4", "e5", "e6"]) c.add(complete(id), "t");
    expect(c.unwritten).toBe(6);
    ops.releaseWrite();
    await turns();
    expect(c.unwritten).toBe(5);
    ops.releaseWrite();
    await turns();
    expect(ops.callsOf("writeOutcomes").map((w) => w.ids)).toEqual([["e1"], ["e2", "e3", "e4", "e5", "e6"]]);
    expect(c.unwritten).toBe(0);
    expect(written()).toBe(2);
    expect(ops.count("completed")).toBe(6);
  });

  test("with a flush interval, outcomes of one interval share a write", async () => {
    jest.useFakeTimers();
    try {
      const { c, ops } = completer([task("t")], { flushIntervalMs: 50 });
      ops.add("t", 3);
      c.add(complete("e1"), "t");
      jest.advanceTimersByTime(20);
      c.add(complete("e2"), "t");
      c.add(complete("e3"), "t");
      expect(ops.callsOf("writeOutcomes")).toHaveLength(0);
      jest.advanceTimersByTime(30);
      await Promise.resolve();
      expect(ops.callsOf("writeOutcomes").map((w) => w.ids)).toEqual([["e1", "e2", "e3"]]);
    } finally {
      jest.useRealTimers();
    }
  });

  test("a limited task's written outcome claims again here when there is room", async () => {
    const { c, ops, claims } = completer([task("limited", { concurrency: 2 }), task("plain")]);
    ops.add("limited", 1);
    ops.add("plain", 1);
    c.add(complete("e2"), "plain");
    await turns();
    expect(claims()).toBe(0); // an unlimited task's end frees no shared slot
    c.add(complete("e1"), "limited");
    await turns();
    expect(claims()).toBe(1);
    expect(ops.callsOf("wakeQueue")).toHaveLength(0);
  });

  test("without room, a limited task's freed slot wakes the queue's other workers", async () => {
    const { c, ops, claims } = completer([task("limited", { concurrency: 2 })], { canClaim: false });
    ops.add("limited", 2);
    c.add(complete("e1"), "limited");
    c.add({ kind: "suspended", id: "e2" }, "limited");
    await turns();
    expect(claims()).toBe(0);
    expect(ops.callsOf("wakeQueue")).toEqual([{ op: "wakeQueue", taskKeys: ["limited"] }, { op: "wakeQueue", taskKeys: ["limited"] }]);
    expect(ops.callsOf("writeOutcomes").map((w) => w.ids)).toEqual([["e1"]]); // a suspended execution has nothing to write
  });

  test("executions whose task removes them at once are removed after their write", async () => {
    const { c, ops } = completer([task("gone", { removeOnComplete: true }), task("kept")]);
    ops.add("gone", 1);
    ops.add("kept", 1);
    c.add(complete("e1"), "gone");
    c.add(complete("e2"), "kept");
    await turns();
    expect(ops.callsOf("removeFinished")).toEqual([{ op: "removeFinished", completed: ["e1"], failed: [] }]);
  });
});
