import { isTransientDbError } from "../../src/db/connection-errors";
import { retryTransient } from "../../src/runtime/retry-transient";

const error = (code: string) => Object.assign(new Error(code), { code });

test("connection losses and a server going away are transient; a wrong statement is not", () => {
  for (const code of ["ECONNRESET", "ECONNREFUSED", "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P03", "08006", "53300"]) {
    expect([code, isTransientDbError(error(code))]).toEqual([code, true]);
  }
  for (const code of ["CONNECTION_ENDED", "23505", "22P02", "42P01"]) expect([code, isTransientDbError(error(code))]).toEqual([code, false]);
  expect(isTransientDbError(new Error("no code"))).toBe(false);
  expect(isTransientDbError(null)).toBe(false);
});

test("a transient failure is retried until the write succeeds", async () => {
  const failures = [error("ECONNRESET"), error("57P01")];
  let calls = 0;
  const retried: number[] = [];
  const value = await retryTransient(async () => {
    calls += 1;
    const next = failures.shift();
    if (next) throw next;
    return "written";
  }, { maxMs: 10_000, initialDelayMs: 1, onRetry: (_error, attempt) => retried.push(attempt) });
  expect({ value, calls, retried }).toEqual({ value: "written", calls: 3, retried: [1, 2] });
});

test("a non-transient error is thrown at once, and a transient one once the limit has passed", async () => {
  let calls = 0;
  await expect(retryTransient(async () => {
    calls += 1;
    throw error("23505");
  }, { maxMs: 10_000, initialDelayMs: 1 })).rejects.toThrow("23505");
  expect(calls).toBe(1);

  calls = 0;
  await expect(retryTransient(async () => {
    calls += 1;
    throw error("ECONNREFUSED");
  }, { maxMs: 30, initialDelayMs: 1, maxDelayMs: 4 })).rejects.toThrow("ECONNREFUSED");
  expect(calls).toBeGreaterThan(1);
});
