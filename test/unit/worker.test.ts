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

function worker(handler: () => Promise<unknown>, concurrency = 2) {
  const ops = new MemoryWorkerOps();
  const w = new Worker("default", [task("t", {}, handler)], resolveWorkerConfig({ concurrency, pollIntervalMs: 3_600_000 }), {
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
});
