import { NEVER, Subject } from "rxjs";
import { Worker } from "../../src/runtime/worker";
import { resolveWorkerConfig } from "../../src/model/worker-config";
import { MemoryWorkerOps } from "../support/memory-worker-ops";
import { silentLogger, task, turns } from "../support/worker-fixtures";

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function worker(handler: () => Promise<unknown>, concurrency = 2, fetchBatchSize?: number, claimAheadMs?: number) {
  const ops = new MemoryWorkerOps();
  const w = new Worker("default", [task("t", {}, handler)], resolveWorkerConfig({ concurrency, fetchBatchSize, claimAheadMs, pollIntervalMs: 3_600_000 }), {
    sql: undefined as never,
    orchestratorId: "o",
    logger: silentLogger,
    makeContext: () => ({}),
    ops,
  });
  const work$ = new Subject<{ queue: string; runAt: number }>();
  return { w, ops, work$, start: () => w.start({ work$, listening$: NEVER }) };
}

describe("worker", () => {
  test("runs claimed work, writes each outcome, and a notification wakes it for more", async () => {
    const { ops, work$, start, w } = worker(async () => "ok");
    ops.add("t", 3);
    start();
    await turns(10);
    expect(ops.count("completed")).toBe(3);
    ops.add("t", 1);
    await turns();
    expect(ops.count("pending")).toBe(1); // nothing tells the worker yet
    work$.next({ queue: "default", runAt: 0 });
    await turns(10);
    expect(ops.count("completed")).toBe(4);
    expect(w.isIdle()).toBe(true);
    await w.stop();
  });

  test("stop claims nothing more and resolves once running handlers ended and their outcomes are written", async () => {
    const handlers = gate();
    const { ops, start, w } = worker(() => handlers.promise);
    ops.add("t", 5);
    start();
    await turns();
    expect(ops.count("running")).toBe(2);
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    ops.holdWrites = true;
    handlers.open();
    await turns();
    expect(stopped).toBe(false); // outcomes not yet written
    expect(ops.writesHeld).toBe(1);
    ops.holdWrites = false;
    ops.releaseWrite();
    await stopping;
    expect(ops.count("completed")).toBe(2);
    expect(ops.count("pending")).toBe(3);
    expect(ops.callsOf("claim")).toHaveLength(1);
  });

  /** A worker whose first handler returns at once (so it claims ahead) and whose others wait for `gate`. */
  async function withBuffer() {
    const handlers = gate();
    let calls = 0;
    const { ops, start, w } = worker(async () => (calls++ === 0 ? null : handlers.promise), 2, 12, 60_000);
    ops.add("t", 30);
    start();
    await turns(10);
    return { handlers, ops, w, calls: () => calls };
  }

  test("claim-ahead: buffered executions are held (heartbeat ids) but not started; stop returns them to the queue at once", async () => {
    const { handlers, ops, w, calls } = await withBuffer();
    expect(ops.count("completed")).toBe(1);
    expect(ops.count("running")).toBe(12); // 2 running + 10 buffered (fetchBatchSize 12 caps what it holds)
    expect(calls()).toBe(3);
    expect(w.heldIds()).toHaveLength(12);
    const stopping = w.stop();
    await turns(10);
    expect(ops.count("running")).toBe(2); // the buffered ten released without waiting for the handlers
    expect(ops.count("pending")).toBe(27);
    handlers.open();
    await stopping;
    expect(calls()).toBe(3);
    expect(ops.count("completed")).toBe(3);
    expect(ops.count("pending")).toBe(27);
  });

  test("claim-ahead: a cancel reaches a buffered execution, which ends cancelled without running", async () => {
    const { handlers, ops, w, calls } = await withBuffer();
    const buffered = w.heldIds().filter((id) => ops.executions.find((e) => e.id === id)?.status === "running").at(-1)!;
    expect(w.abort(buffered, "cancelled")).toBe(true);
    handlers.open();
    await turns(30);
    expect(ops.executions.find((e) => e.id === buffered)!.status).toBe("failed"); // the stand-in's "cancelled"
    expect(calls()).toBe(29); // every execution but the cancelled one ran its handler
    expect(ops.count("completed")).toBe(29);
    await w.stop();
  });
});
