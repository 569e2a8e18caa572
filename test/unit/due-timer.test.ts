import { Subject } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import { dueTimer, MAX_TIMER_DELAY_MS } from "../../src/streams/due-timer";

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

test("fires for every candidate in time order; an earlier one re-arms, a later one does not delay", () => {
  scheduler().run(({ cold, expectObservable }) => {
    // frames are virtual milliseconds; values are due times
    const candidates = cold("a 9ms b 9ms c", { a: 50, b: 30, c: 40 });
    expectObservable(candidates.pipe((source) => dueTimer(source))).toBe("30ms x 9ms y 9ms z", { x: 30, y: 40, z: 50 });
  });
});

test("times that are due together fire once, duplicates are ignored", () => {
  scheduler().run(({ cold, expectObservable }) => {
    const candidates = cold("(abc)", { a: 20, b: 20, c: 5 });
    expectObservable(dueTimer(candidates)).toBe("5ms x 14ms y", { x: 5, y: 20 });
  });
});

test("after firing, a later candidate arms the timer again; past times fire at once", () => {
  scheduler().run(({ cold, expectObservable }) => {
    const candidates = cold("a 19ms b", { a: 10, b: 5 });
    expectObservable(dueTimer(candidates)).toBe("10ms x 9ms y", { x: 10, y: 5 });
  });
});

test("a time beyond setTimeout's limit does not fire early: the timer wakes at the limit and re-arms", () => {
  scheduler().run(({ expectObservable, cold }) => {
    const far = MAX_TIMER_DELAY_MS + 10_000;
    const candidates = cold("a", { a: far });
    expectObservable(dueTimer(candidates)).toBe(`${far}ms x`, { x: far });
  });
});

test("ignores non-finite candidates", () => {
  const fired: number[] = [];
  const candidates = new Subject<number>();
  const subscription = dueTimer(candidates).subscribe((at) => fired.push(at));
  candidates.next(Number.NaN);
  candidates.next(Number.POSITIVE_INFINITY);
  expect(fired).toEqual([]);
  subscription.unsubscribe();
});
