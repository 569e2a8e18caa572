import { isWindowOpen, minuteOfDay, nextWindowOpening, parseClockTime } from "../../src/model/time-window";

const at = (iso: string) => new Date(iso);
const office = { start: 9 * 60, end: 17 * 60 };
const night = { start: 22 * 60, end: 6 * 60 };

test("parses HH:MM and rejects anything else", () => {
  expect(parseClockTime("09:30")).toBe(570);
  expect(parseClockTime("23:59")).toBe(1439);
  for (const bad of ["9:30", "24:00", "12:60", "noon", 930, null]) expect(parseClockTime(bad)).toBeNull();
});

test("a day window is open from its start (inclusive) to its end (exclusive)", () => {
  expect(isWindowOpen(office, at("2030-01-15T08:59:59Z"))).toBe(false);
  expect(isWindowOpen(office, at("2030-01-15T09:00:00Z"))).toBe(true);
  expect(isWindowOpen(office, at("2030-01-15T16:59:59Z"))).toBe(true);
  expect(isWindowOpen(office, at("2030-01-15T17:00:00Z"))).toBe(false);
});

test("a window wrapping midnight is open late evening and early morning", () => {
  expect(isWindowOpen(night, at("2030-01-15T23:00:00Z"))).toBe(true);
  expect(isWindowOpen(night, at("2030-01-15T05:59:00Z"))).toBe(true);
  expect(isWindowOpen(night, at("2030-01-15T06:00:00Z"))).toBe(false);
  expect(isWindowOpen(night, at("2030-01-15T12:00:00Z"))).toBe(false);
});

test("next opening: now when open, else the next start (today or tomorrow)", () => {
  expect(nextWindowOpening(office, at("2030-01-15T10:00:00Z")).toISOString()).toBe("2030-01-15T10:00:00.000Z");
  expect(nextWindowOpening(office, at("2030-01-15T08:30:15Z")).toISOString()).toBe("2030-01-15T09:00:00.000Z");
  expect(nextWindowOpening(office, at("2030-01-15T18:00:00Z")).toISOString()).toBe("2030-01-16T09:00:00.000Z");
  expect(nextWindowOpening(night, at("2030-01-15T12:00:00Z")).toISOString()).toBe("2030-01-15T22:00:00.000Z");
});

test("a time zone shifts the window, across a daylight-saving change too", () => {
  const berlin = { ...office, timeZone: "Europe/Berlin" };
  expect(minuteOfDay(at("2030-01-15T08:00:00Z"), "Europe/Berlin")).toBe(9 * 60); // UTC+1 in winter
  expect(isWindowOpen(berlin, at("2030-01-15T08:00:00Z"))).toBe(true);
  expect(isWindowOpen(berlin, at("2030-07-15T07:30:00Z"))).toBe(true); // UTC+2 in summer
  // The night clocks go forward (2030-03-31), 09:00 Berlin is 07:00 UTC.
  expect(nextWindowOpening(berlin, at("2030-03-30T18:00:00Z")).toISOString()).toBe("2030-03-31T07:00:00.000Z");
});
