import { ConsumerHealthTracker, explainConsumerError } from "../../src/runtime/table-changes/consumer-health";
import type { Logger } from "../../src/model/logger";

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => lines.push({ level, message });
  const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  return { logger, lines };
}

const missingPublication = Object.assign(new Error('publication "pgconductor_insert" does not exist'), { code: "42704" });

test("a failure that repeats is logged once at error level with cause and fix, then only counted", () => {
  const { logger, lines } = recordingLogger();
  const tracker = new ConsumerHealthTracker(logger, () => "pgconductor_1");
  for (let i = 0; i < 5; i++) tracker.failed(missingPublication);
  expect(lines).toHaveLength(1);
  expect(lines[0].level).toBe("error");
  expect(lines[0].message).toMatch(/pgconductor_insert.*Fix: restart an orchestrator/);
  expect(tracker.health).toMatchObject({ mode: "failing", failure: { count: 5, message: missingPublication.message } });
});

test("recovery clears the streak and says so; a different error is logged again", () => {
  const { logger, lines } = recordingLogger();
  const tracker = new ConsumerHealthTracker(logger, () => "s");
  tracker.failed(missingPublication);
  tracker.consuming();
  expect(tracker.health).toEqual({ mode: "consuming", failure: null });
  expect(lines.map((l) => l.level)).toEqual(["error", "info"]);
  tracker.failed(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
  tracker.failed(missingPublication);
  expect(lines.map((l) => l.level)).toEqual(["error", "info", "error", "error"]);
  expect(lines[2].message).toMatch(/unreachable/);
});

test("the retry pause doubles with each repeat, up to its cap", () => {
  const tracker = new ConsumerHealthTracker(recordingLogger().logger, () => "s");
  expect(tracker.retryDelay(1_000)).toBe(1_000);
  tracker.failed(missingPublication);
  expect(tracker.retryDelay(1_000)).toBe(1_000);
  tracker.failed(missingPublication);
  tracker.failed(missingPublication);
  expect(tracker.retryDelay(1_000)).toBe(4_000);
  for (let i = 0; i < 10; i++) tracker.failed(missingPublication);
  expect(tracker.retryDelay(1_000)).toBe(5_000);
});

test("known failures are explained by SQLSTATE", () => {
  expect(explainConsumerError(Object.assign(new Error("replication slot is active for PID 7"), { code: "55006" }), "s").cause).toMatch(/another process/);
  expect(explainConsumerError(Object.assign(new Error("permission denied"), { code: "42501" }), "s").fix).toMatch(/REPLICATION/);
  expect(explainConsumerError(new Error("odd"), "s")).toEqual({ cause: "odd", fix: expect.stringMatching(/server log/) });
});
