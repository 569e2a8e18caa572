/**
 * Daily time windows ("09:00"–"17:00", possibly wrapping midnight) in UTC or an IANA time zone:
 * whether a moment is inside, and when the window next opens. Pure functions of the time given.
 */

export interface TimeWindow {
  /** Minutes after local midnight. */
  start: number;
  end: number;
  /** IANA time zone; undefined means UTC. */
  timeZone?: string;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses "HH:MM"; null when the text is not a 24-hour time. */
export function parseClockTime(text: unknown): number | null {
  if (typeof text !== "string") return null;
  const match = HH_MM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes (with fraction) since local midnight in the zone. */
export function minuteOfDay(at: Date, timeZone?: string): number {
  if (!timeZone) return at.getUTCHours() * 60 + at.getUTCMinutes() + at.getUTCSeconds() / 60 + at.getUTCMilliseconds() / 60_000;
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(at).map((part) => [part.type, part.value]));
  return Number(parts.hour) * 60 + Number(parts.minute) + Number(parts.second) / 60 + at.getUTCMilliseconds() / 60_000;
}

/** Inside [start, end); a window whose end is before its start wraps midnight; start = end is always open. */
export function isWindowOpen(window: TimeWindow, at: Date): boolean {
  if (window.start === window.end) return true;
  const minute = minuteOfDay(at, window.timeZone);
  return window.start < window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
}

/** The first moment at or after `at` when the window is open. */
export function nextWindowOpening(window: TimeWindow, at: Date): Date {
  if (isWindowOpen(window, at)) return at;
  const minute = minuteOfDay(at, window.timeZone);
  const untilStart = (((window.start - minute) % 1440) + 1440) % 1440;
  let candidate = new Date(at.getTime() + Math.round(untilStart * 60_000));
  // A daylight-saving shift can move local time by up to an hour either way: walk to the real opening.
  const shift = (date: Date, step: number) => new Date(date.getTime() + step * 60_000);
  for (let i = 0; i < 180 && shift(candidate, -1) > at && isWindowOpen(window, shift(candidate, -1)); i++) candidate = shift(candidate, -1);
  for (let i = 0; i < 180 && !isWindowOpen(window, candidate); i++) candidate = shift(candidate, 1);
  return candidate;
}
