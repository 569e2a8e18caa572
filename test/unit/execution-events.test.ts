import { parseEventPayload, isFinal } from "../../src/model/channels";
import { eventKey, historyEvents } from "../../src/api/execution-history";
import { compileFilter, matches, matchesPause } from "../../src/api/observe";
import { formatEvent } from "../../src/cli/watch";
import { tsType } from "../../src/cli/render-types";
import type { HistoryRow } from "../../src/db/observability";

const ID = "4bd32fd6-85c4-44cb-8e70-26f889337e74";

test("a NOTIFY payload decodes to its events; malformed ones are dropped", () => {
  const payload = JSON.stringify([
    { kind: "completed", id: ID, task: "t", queue: "q", attempt: 1, at: 1000, result: { ok: true } },
    { kind: "exploded", id: ID, attempt: 1, at: 1 },
    { kind: "failed", id: ID, attempt: "1", at: 1 },
    { kind: "cancelled", id: ID, attempt: 0, at: 2, more: true },
  ]);
  expect(parseEventPayload(payload).map((e) => e.kind)).toEqual(["completed", "cancelled"]);
  expect(parseEventPayload("not json")).toEqual([]);
  expect(parseEventPayload('{"kind":"created"}')).toEqual([]);
  expect(["completed", "failed", "cancelled", "retrying", "released"].map((k) => isFinal(k as never))).toEqual([true, true, true, false, false]);
});

const row = (over: Partial<HistoryRow>): HistoryRow => ({
  id: ID, task_key: "t", queue: "q", status: "pending", attempts: 0, last_error: null, cancel_reason: null, result: null,
  created_ms: 1000, started_ms: null, locked_ms: null, finished_ms: null, retried_ms: null, ...over,
});
const summary = (r: HistoryRow) => historyEvents(r).map((e) => `${e.kind}#${e.attempt}@${e.at.getTime()}`);

test("history rebuilds what the row records and nothing more", () => {
  expect(summary(row({}))).toEqual(["created#0@1000"]);
  expect(summary(row({ status: "running", attempts: 1, started_ms: 2000, locked_ms: 2000 }))).toEqual(["created#0@1000", "started#1@2000"]);
  expect(summary(row({ status: "running", attempts: 3, started_ms: 2000, locked_ms: 9000 }))).toEqual(["created#0@1000", "started#1@2000", "started#3@9000"]);
  expect(summary(row({ status: "pending", attempts: 1, started_ms: 2000, last_error: "x", retried_ms: 3000 }))).toEqual(["created#0@1000", "started#1@2000", "retrying#1@3000"]);
  const done = historyEvents(row({ status: "completed", attempts: 2, started_ms: 2000, finished_ms: 5000, result: { a: 1 } }));
  expect(done.at(-1)).toMatchObject({ kind: "completed", attempt: 2, result: { a: 1 }, replayed: true });
  expect(historyEvents(row({ status: "cancelled", finished_ms: 1500, cancel_reason: null })).at(-1)).toMatchObject({ kind: "cancelled", error: "cancelled" });
  expect(eventKey(done[0])).toBe(`${ID}|created|0|1000`);
});

test("filters match on every given field; unknown task or queue (a bare event) passes until its row is read", () => {
  const filter = compileFilter({ task: ["a", "b"], queue: "q", kind: "failed" });
  expect(matches(filter, { kind: "failed", executionId: ID, task: "a", queue: "q" })).toBe(true);
  expect(matches(filter, { kind: "failed", executionId: ID, task: "c", queue: "q" })).toBe(false);
  expect(matches(filter, { kind: "started", executionId: ID, task: "a", queue: "q" })).toBe(false);
  expect(matches(filter, { kind: "failed", executionId: ID })).toBe(true);
  expect(() => compileFilter({ executionId: "nope" })).toThrow(/executionId must be an execution id/);
  expect(() => compileFilter({ kind: "finished" as never })).toThrow(/unknown event kind "finished"/);
});

test("watch lines: time, kind, task, queue, id, attempt, detail; colour only when asked", () => {
  const event = { kind: "failed" as const, executionId: ID, task: "t", queue: "q", attempt: 2, at: new Date(0), error: "boom" };
  expect(formatEvent(event, false)).toBe(`1970-01-01T00:00:00.000Z  failed     t  q  ${ID}  #2  "boom"`);
  expect(formatEvent(event, true)).toContain("\x1b[31mfailed   \x1b[0m");
  expect(formatEvent({ ...event, kind: "completed", error: undefined, result: "x".repeat(500) }, false).length).toBeLessThan(320);
});

test("pause events: matched by queue, task and kind like execution events, never by id; watch prints the target", () => {
  const queuePause = { kind: "paused" as const, queue: "mail", at: new Date(0) };
  const taskPause = { kind: "resumed" as const, task: "send", queue: "mail", at: new Date(0) };
  expect(matchesPause(compileFilter({ queue: "mail" }), queuePause)).toBe(true);
  expect(matchesPause(compileFilter({ queue: "other" }), taskPause)).toBe(false);
  expect(matchesPause(compileFilter({ task: "send" }), taskPause)).toBe(true);
  expect(matchesPause(compileFilter({ task: "other" }), taskPause)).toBe(false);
  expect(matchesPause(compileFilter({ kind: "paused" }), taskPause)).toBe(false);
  expect(matchesPause(compileFilter({ executionId: ID }), queuePause)).toBe(false);
  expect(formatEvent(queuePause, false)).toBe("1970-01-01T00:00:00.000Z  paused     queue mail");
  expect(formatEvent(taskPause, false)).toBe("1970-01-01T00:00:00.000Z  resumed    task send");
});

test("PostgreSQL types map to TypeScript as Supabase's generator maps them", () => {
  const model = { schemas: ["public"] };
  const t = (name: string, kind = "b", array = false, schema = "pg_catalog") => tsType({ name, kind, array, schema }, model);
  expect([t("bool"), t("int8"), t("numeric"), t("jsonb"), t("timestamptz"), t("uuid"), t("text", "b", true), t("geometry")]).toEqual([
    "boolean", "number", "number", "Json", "string", "string", "string[]", "unknown",
  ]);
  expect(t("mood", "e", false, "public")).toBe('Database["public"]["Enums"]["mood"]');
  expect(t("mood", "e", false, "elsewhere")).toBe("string");
});
