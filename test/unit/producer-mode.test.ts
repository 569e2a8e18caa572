import { initialMode, transition, triesLimited, wantsMore, type ProducerMode } from "../../src/runtime/producer-mode";

const waiting: ProducerMode = { name: "waiting", limitedQuiet: false };
type Claiming = Extract<ProducerMode, { name: "claiming" }>;
const claiming = (signalled = false, external = true): Claiming => ({ name: "claiming", external, signalled, limitedQuiet: false });

describe("producer mode", () => {
  test("starts due, as after an outside wake-up", () => {
    expect(initialMode).toEqual({ name: "due", external: true, limitedQuiet: false });
  });

  test("an outside wake-up makes a waiting producer due, and marks a claim in flight", () => {
    expect(transition(waiting, { type: "signal" })).toEqual({ name: "due", external: true, limitedQuiet: false });
    expect(transition(claiming(), { type: "signal" })).toEqual(claiming(true));
  });

  test("a claim's end decides what comes next", () => {
    expect(transition(claiming(), { type: "claimEnded", full: false, limitedFound: null })).toEqual(waiting);
    expect(transition(claiming(), { type: "claimEnded", full: true, limitedFound: null })).toEqual({ name: "due", external: false, limitedQuiet: false });
    // A wake-up during the claim means its answer does not prove the queue empty.
    expect(transition(claiming(true), { type: "claimEnded", full: false, limitedFound: null })).toEqual({ name: "due", external: true, limitedQuiet: false });
    expect(transition(claiming(), { type: "claimFailed" })).toEqual({ name: "due", external: true, limitedQuiet: false });
  });

  test("events a mode does not accept throw", () => {
    expect(() => transition(waiting, { type: "claimStarted" })).toThrow('event "claimStarted" is not allowed in mode "waiting"');
    expect(() => transition(initialMode, { type: "claimEnded", full: true, limitedFound: null })).toThrow(/not allowed in mode "due"/);
    expect(() => transition(waiting, { type: "claimFailed" })).toThrow(/not allowed/);
  });

  test("stopped absorbs every event", () => {
    const stopped = transition(claiming(), { type: "stop" });
    expect(stopped).toEqual({ name: "stopped" });
    for (const event of [{ type: "signal" }, { type: "claimStarted" }, { type: "claimFailed" }] as const) {
      expect(transition(stopped, event)).toBe(stopped);
    }
  });

  test("limited tasks that came back empty are skipped by re-claims until an outside wake-up", () => {
    const quietDue = transition(claiming(false, true), { type: "claimEnded", full: true, limitedFound: false });
    expect(quietDue).toEqual({ name: "due", external: false, limitedQuiet: true });
    expect(triesLimited(quietDue as Extract<ProducerMode, { name: "due" }>)).toBe(false);
    const woken = transition(quietDue, { type: "signal" });
    expect(triesLimited(woken as Extract<ProducerMode, { name: "due" }>)).toBe(true);
    // A claim that did not try the limited tasks leaves the mark as it was.
    const stillQuiet = transition({ ...claiming(), limitedQuiet: true }, { type: "claimEnded", full: true, limitedFound: null });
    expect(stillQuiet).toMatchObject({ limitedQuiet: true });
    const found = transition({ ...claiming(), limitedQuiet: true }, { type: "claimEnded", full: true, limitedFound: true });
    expect(found).toMatchObject({ limitedQuiet: false });
  });

  test("a freed slot claims again only when more work may be waiting", () => {
    expect(wantsMore(waiting)).toBe(false);
    expect(wantsMore(initialMode)).toBe(true);
    expect(wantsMore(claiming(false))).toBe(false);
    expect(wantsMore(claiming(true))).toBe(true);
    expect(wantsMore({ name: "stopped" })).toBe(false);
  });
});
