import { TestScheduler } from "rxjs/testing";
import { batchWindow } from "../../src/runtime/batch-window";

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

test("a full batch is emitted at once", () => {
  scheduler().run(({ cold, expectObservable }) => {
    const source = cold("abc|");
    expectObservable(source.pipe(batchWindow(3, 100))).toBe("--x|", { x: ["a", "b", "c"] });
  });
});

test("a partial batch waits for the timeout counted from its first item, not from subscription", () => {
  scheduler().run(({ cold, expectObservable }) => {
    const source = cold("50ms a 9ms b 200ms c 300ms |");
    // a at 50, b at 60 -> emitted at 150; c at 261 -> emitted at 361.
    expectObservable(source.pipe(batchWindow(5, 100))).toBe("150ms x 210ms y 200ms |", { x: ["a", "b"], y: ["c"] });
  });
});

test("size and timeout interleave: the timer of a batch emitted full does not cut the next one short", () => {
  scheduler().run(({ cold, expectObservable }) => {
    const source = cold("ab 50ms c 200ms |");
    // [a,b] full at 1; c at 52 starts a fresh 100 ms timer -> 152.
    expectObservable(source.pipe(batchWindow(2, 100))).toBe("-x 150ms y 100ms |", { x: ["a", "b"], y: ["c"] });
  });
});

test("nothing is emitted while idle, and completion flushes the partial batch", () => {
  scheduler().run(({ cold, expectObservable }) => {
    expectObservable(cold("500ms |").pipe(batchWindow(2, 100))).toBe("500ms |");
    expectObservable(cold("a 10ms |").pipe(batchWindow(2, 100))).toBe("11ms (x|)", { x: ["a"] });
  });
});
