import { ConfigurationError } from "../../src/model/errors";
import { resolveFlowSettings, takesConcurrencyKey } from "../../src/model/flow-settings";
import { resolveGate } from "../../src/api/invoke-gates";
import { resolveConcurrencyKey } from "../../src/api/invoke-flow";
import { pauseTarget } from "../../src/api/pause-target";

const bad = (options: object, message: RegExp) => {
  expect(() => resolveFlowSettings({ name: "sync", ...options })).toThrow(ConfigurationError);
  expect(() => resolveFlowSettings({ name: "sync", ...options })).toThrow(message);
};

test("valid settings resolve with their defaults", () => {
  expect(resolveFlowSettings({ name: "sync" })).toEqual({ keyConcurrency: null, rateLimit: null, retry: null, timeoutMs: null });
  const settings = resolveFlowSettings({
    name: "sync", concurrency: 20, keyConcurrency: 2, rateLimit: { limit: 100, periodSeconds: 60 }, retry: { initialMs: 1000 }, timeoutMs: 5000,
  });
  expect(settings.rateLimit).toEqual({ limit: 100, periodSeconds: 60, perKey: false });
  expect(settings.retry).toEqual({ initialMs: 1000, factor: 2, maxMs: 3_600_000, jitter: 0 });
  expect(takesConcurrencyKey(settings)).toBe(true);
  expect(takesConcurrencyKey(resolveFlowSettings({ name: "t", rateLimit: { limit: 1, periodSeconds: 1, perKey: true } }))).toBe(true);
  expect(takesConcurrencyKey(resolveFlowSettings({ name: "t", rateLimit: { limit: 1, periodSeconds: 1 } }))).toBe(false);
});

test("bad settings name the task and the field", () => {
  bad({ keyConcurrency: 0 }, /createTask "sync": keyConcurrency must be a positive integer \(got 0\)/);
  bad({ concurrency: 2, keyConcurrency: 3 }, /keyConcurrency cannot exceed concurrency/);
  bad({ rateLimit: { limit: -1, periodSeconds: 60 } }, /"sync": rateLimit\.limit must be a positive integer \(got -1\)/);
  bad({ rateLimit: { limit: 5, periodSeconds: 0 } }, /rateLimit\.periodSeconds/);
  bad({ rateLimit: { limit: 5, periodSeconds: 1, perKey: "yes" } }, /rateLimit\.perKey/);
  bad({ rateLimit: 5 }, /rateLimit must be/);
  bad({ retry: { initialMs: -5 } }, /retry\.initialMs/);
  bad({ retry: { initialMs: 100, factor: 0.5 } }, /retry\.factor/);
  bad({ retry: { initialMs: 100, maxMs: 50 } }, /retry\.maxMs must be a number of milliseconds >= initialMs/);
  bad({ retry: { initialMs: 100, jitter: 1.5 } }, /retry\.jitter/);
  bad({ timeoutMs: 0 }, /"sync": timeoutMs/);
});

test("debounce maxSeconds must be at least seconds; throttle has none", () => {
  expect(resolveGate("sync", { debounce: { seconds: 2, maxSeconds: 10 } })).toEqual({ kind: "debounce", seconds: 2, maxSeconds: 10 });
  expect(() => resolveGate("sync", { debounce: { seconds: 5, maxSeconds: 1 } })).toThrow(/Task "sync": debounce\.maxSeconds must be a number of seconds >= debounce\.seconds \(5\)/);
  expect(() => resolveGate("sync", { throttle: { seconds: 5, maxSeconds: 10 } })).toThrow(ConfigurationError);
});

test("a concurrency_key needs a keyed limit on a known task", () => {
  const keyed = { name: "keyed", queue: "default", maxAttempts: 3, triggers: [], handler: () => {}, options: { name: "keyed", keyConcurrency: 2 } };
  const plain = { ...keyed, name: "plain", options: { name: "plain" } };
  expect(resolveConcurrencyKey("keyed", "tenant-1", keyed)).toBe("tenant-1");
  expect(resolveConcurrencyKey("plain", undefined, plain)).toBeNull();
  expect(() => resolveConcurrencyKey("plain", "tenant-1", plain)).toThrow(/Task "plain": concurrency_key needs a keyed limit/);
  expect(() => resolveConcurrencyKey("keyed", "", keyed)).toThrow(/concurrency_key must be a non-empty string/);
  expect(() => resolveConcurrencyKey("keyed", 42, keyed)).toThrow(ConfigurationError);
  expect(resolveConcurrencyKey("elsewhere", "k", undefined)).toBe("k"); // not registered here: stored as given
});

test("pause takes exactly one of queue and task", () => {
  expect(pauseTarget("pause", { queue: "emails" })).toEqual({ kind: "queue", name: "emails" });
  expect(pauseTarget("resume", { task: "sync" })).toEqual({ kind: "task", name: "sync" });
  expect(() => pauseTarget("pause", { queue: "a", task: "b" })).toThrow(/pause: pass \{ queue: name \} or \{ task: name \}/);
  expect(() => pauseTarget("pause", {})).toThrow(ConfigurationError);
  expect(() => pauseTarget("resume", { task: "" })).toThrow(/resume: task must be a non-empty string/);
});
