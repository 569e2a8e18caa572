import { advanceSchedule, cronProblem, missedTicks, nextFireTime } from "../../src/model/cron-times";

const at = (iso: string) => new Date(iso);

describe("cronProblem", () => {
  test.each(["0 9 * * *", "* * * * * *", "*/5 * * * * *", "@hourly", "0 0 * * 1-5"])("accepts %s", (expression) => {
    expect(cronProblem(expression)).toBeNull();
  });

  test.each([
    ["61 * * * *", /61/],
    ["not a cron", /invalid cron expression "not a cron"/],
    ["* * * * * * *", /expected 5 fields .* or 6 \(seconds first\), got 7/],
    ["* * *", /got 3/],
    ["", /non-empty/],
    ["   ", /non-empty/],
  ])("rejects %j", (expression, reason) => {
    expect(cronProblem(expression)).toMatch(reason);
  });

  test("rejects a non-string expression and an unknown time zone", () => {
    expect(cronProblem(42)).toMatch(/non-empty string/);
    expect(cronProblem("0 9 * * *", "Not/AZone")).toMatch(/tz Not\/AZone/);
  });
});

describe("nextFireTime", () => {
  test("is strictly after the given time, with seconds when the expression has six fields", () => {
    expect(nextFireTime("* * * * * *", "UTC", at("2026-01-01T00:00:00.000Z"))).toEqual(at("2026-01-01T00:00:01.000Z"));
    expect(nextFireTime("* * * * * *", "UTC", at("2026-01-01T00:00:00.400Z"))).toEqual(at("2026-01-01T00:00:01.000Z"));
    expect(nextFireTime("* * * * *", "UTC", at("2026-01-01T00:00:00.000Z"))).toEqual(at("2026-01-01T00:01:00.000Z"));
  });

  test("honours the time zone", () => {
    expect(nextFireTime("0 9 * * *", "UTC", at("2026-01-01T00:00:00Z"))).toEqual(at("2026-01-01T09:00:00Z"));
    expect(nextFireTime("0 9 * * *", "Europe/Berlin", at("2026-01-01T00:00:00Z"))).toEqual(at("2026-01-01T08:00:00Z"));
  });
});

describe("advanceSchedule", () => {
  const every10s = { cron: "*/10 * * * * *", tz: "UTC" };

  test("a new schedule starts at the first fire time after now", () => {
    expect(advanceSchedule({ ...every10s, previous: null }, at("2026-01-01T00:00:03Z"))).toEqual({ next: at("2026-01-01T00:00:10Z"), missed: 0 });
  });

  test("on time: the fire time after the one that just came due", () => {
    expect(advanceSchedule({ ...every10s, previous: at("2026-01-01T00:00:10Z") }, at("2026-01-01T00:00:10.020Z"))).toEqual({
      next: at("2026-01-01T00:00:20Z"),
      missed: 0,
    });
  });

  test("woken early (clock skew): still the fire time after the materialised one, never the same one again", () => {
    expect(advanceSchedule({ ...every10s, previous: at("2026-01-01T00:00:10Z") }, at("2026-01-01T00:00:09.990Z")).next).toEqual(
      at("2026-01-01T00:00:20Z"),
    );
  });

  test("after downtime, missed fire times are skipped: the next one is after now, not a backlog", () => {
    const outcome = advanceSchedule({ ...every10s, previous: at("2026-01-01T00:00:10Z") }, at("2026-01-01T01:00:05Z"));
    expect(outcome.next).toEqual(at("2026-01-01T01:00:10Z"));
    // 00:00:20 .. 01:00:00 never run on their own; the 00:00:10 execution runs once, late.
    expect(outcome.missed).toBe(359);
  });
});

describe("missedTicks", () => {
  test("counts fire times strictly between the previous one and now, up to a limit", () => {
    expect(missedTicks("* * * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00.500Z"))).toBe(0);
    expect(missedTicks("* * * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:03.500Z"))).toBe(3);
    expect(missedTicks("* * * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:03Z"))).toBe(2);
    expect(missedTicks("* * * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), 50)).toBe(50);
    expect(missedTicks("* * * * * *", "UTC", at("2026-01-01T00:00:05Z"), at("2026-01-01T00:00:00Z"))).toBe(0);
  });
});
