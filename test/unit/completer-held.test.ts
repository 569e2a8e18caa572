import { Completer } from "../../src/runtime/completer";
import { TaskControls } from "../../src/runtime/task-controls";
import { MemoryWorkerOps } from "../support/memory-worker-ops";
import { silentLogger, task, turns } from "../support/worker-fixtures";

// The heartbeat names what an orchestrator holds (issue 11, item 1): an outcome queued or being
// written is still held; once its write committed it is not; a suspended one was never queued.
test("an outcome is held from add() until its write has committed", async () => {
  const ops = new MemoryWorkerOps();
  ops.add("t", 3);
  const completer = new Completer({
    ops,
    queue: "default",
    controls: new TaskControls([task("t")]),
    flushIntervalMs: 0,
    logger: silentLogger,
    canClaim: () => true,
    claimAgain: () => {},
  });
  completer.start();
  ops.holdWrites = true;
  completer.add({ kind: "complete", id: "e1", result: null }, "t");
  completer.add({ kind: "suspended", id: "e3" }, "t");
  await turns();
  completer.add({ kind: "complete", id: "e2", result: null }, "t");
  expect(completer.heldIds().sort()).toEqual(["e1", "e2"]);
  ops.releaseWrite();
  await turns();
  expect(completer.heldIds()).toEqual(["e2"]);
  ops.releaseWrite();
  await turns();
  expect(completer.heldIds()).toEqual([]);
  completer.close();
});
