import { NEVER, Subject } from "rxjs";
import { Worker } from "../../src/runtime/worker";
import { resolveWorkerConfig } from "../../src/model/worker-config";
import type { ClaimedExecution } from "../../src/db/claim";
import { takesLocalPath } from "../../src/api/invoke-local";
import { MemoryWorkerOps } from "../support/memory-worker-ops";
import { silentLogger, task, turns } from "../support/worker-fixtures";

function setup() {
  const ops = new MemoryWorkerOps();
  ops.holdClaims = true;
  const ran: string[] = [];
  const handler = async (event: { payload: unknown }) => {
    ran.push(String((event.payload as { id: string }).id));
    return null;
  };
  const w = new Worker(
    "default",
    [task("t", {}, handler as never), task("lim", { concurrency: 1 }, handler as never), task("b", { batch: { size: 5, timeoutMs: 10 } }, handler as never)],
    resolveWorkerConfig({ concurrency: 2, pollIntervalMs: 3_600_000 }),
    { sql: undefined as never, orchestratorId: "o", logger: silentLogger, makeContext: () => ({}), ops },
  );
  w.start({ work$: new Subject(), listening$: NEVER });
  return { ops, w, ran };
}

function row(ops: MemoryWorkerOps, id: string): ClaimedExecution {
  ops.executions.push({ id, task_key: "t", queue: "default", status: "running", priority: 0 });
  const now = new Date();
  return { id, task_key: "t", queue: "default", event_name: "pgconductor.invoke", payload: { id }, attempts: 1, steps: null, cancel_requested: false, run_at: now, locked_at: now, trace_context: null };
}

describe("local dispatch: Worker.reserveLocal", () => {
  test("no slot while a claim is in flight; once it found nothing, slots up to the concurrency", async () => {
    const { ops, w, ran } = setup();
    await turns();
    expect(w.reserveLocal("t")).toBeNull(); // the first claim has not answered: the queue may hold work
    ops.holdClaims = false;
    ops.releaseClaim();
    await turns();
    const first = w.reserveLocal("t");
    const second = w.reserveLocal("t");
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(w.reserveLocal("t")).toBeNull(); // concurrency 2
    second!.cancel();
    const third = w.reserveLocal("t");
    expect(third).not.toBeNull();
    first!.start(row(ops, "x1"));
    third!.start(row(ops, "x2"));
    await turns(10);
    expect(ran).toEqual(["x1", "x2"]);
    expect(ops.count("completed")).toBe(2);
    expect(ops.callsOf("claim").every((call) => call.got === 0)).toBe(true); // no claim took them
    await w.stop();
  });

  test("limited, batch and unknown tasks never get a slot; a stopped worker gives none", async () => {
    const { ops, w } = setup();
    ops.holdClaims = false;
    ops.releaseClaim();
    await turns();
    expect(w.reserveLocal("lim")).toBeNull();
    expect(w.reserveLocal("b")).toBeNull();
    expect(w.reserveLocal("other")).toBeNull();
    await w.stop();
    expect(w.reserveLocal("t")).toBeNull();
  });

  test("a row started after stop is released unattempted instead of run", async () => {
    const { ops, w, ran } = setup();
    ops.holdClaims = false;
    ops.releaseClaim();
    await turns();
    const slot = w.reserveLocal("t")!;
    const stopping = w.stop();
    slot.start(row(ops, "late"));
    await stopping;
    expect(ran).toEqual([]);
    expect(ops.count("pending")).toBe(1);
  });
});

describe("local dispatch: which invokes are offered", () => {
  const plain = { taskKey: "t", queue: "default", payload: {}, dedupeKey: null, priority: 0, runAt: null, gate: null, concurrencyKey: null };
  test("only what the plain invoke writes due now, with no dedupe key, gate or concurrency key", () => {
    expect(takesLocalPath(plain)).toBe(true);
    expect(takesLocalPath({ ...plain, priority: 5 })).toBe(true);
    expect(takesLocalPath({ ...plain, dedupeKey: "k" })).toBe(false);
    expect(takesLocalPath({ ...plain, runAt: new Date() })).toBe(false);
    expect(takesLocalPath({ ...plain, gate: { kind: "throttle", seconds: 1 } })).toBe(false);
    expect(takesLocalPath({ ...plain, concurrencyKey: "tenant" })).toBe(false);
  });
});
