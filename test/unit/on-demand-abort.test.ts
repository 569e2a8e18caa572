import { OnDemandAbortController } from "../../src/runtime/on-demand-abort";

describe("OnDemandAbortController", () => {
  const realAbortController = globalThis.AbortController;
  let made = 0;
  beforeEach(() => {
    made = 0;
    globalThis.AbortController = class extends realAbortController {
      constructor() {
        super();
        made += 1;
      }
    };
  });
  afterEach(() => {
    globalThis.AbortController = realAbortController;
  });

  test("makes no AbortController while nobody reads the signal", () => {
    const controller = new OnDemandAbortController();
    expect(controller.aborted).toBe(false);
    controller.abort("cancelled");
    expect(controller.aborted).toBe(true);
    expect(made).toBe(0);
  });

  test("a signal asked for after the abort is already aborted, with the reason", () => {
    const controller = new OnDemandAbortController();
    const reason = new Error("timeout");
    controller.abort(reason);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(reason);
    expect(made).toBe(1);
  });

  test("a signal handed out before the abort fires its listeners once, with the first reason", () => {
    const controller = new OnDemandAbortController();
    const signal = controller.signal;
    const reasons: unknown[] = [];
    signal.addEventListener("abort", () => reasons.push(signal.reason));
    controller.abort("first");
    controller.abort("second");
    expect(reasons).toEqual(["first"]);
    expect(controller.signal).toBe(signal);
    expect(made).toBe(1);
  });

  test("a bare abort() gives an AbortError reason, like AbortController", () => {
    const controller = new OnDemandAbortController();
    controller.abort();
    expect((controller.signal.reason as DOMException).name).toBe("AbortError");
  });
});
