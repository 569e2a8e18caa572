/**
 * The two guards `npm ci` puts into the installed postgres.js 3.4.9 (scripts/patch-postgres.js):
 * it wrote to a connection's socket after the connection closed and threw from a timer, ending the
 * process (porsager/postgres#1154, #1208), checked in a child process so an unguarded driver takes
 * down only the child; and after a result cut off part-way, the next result on that connection
 * started with empty slots (porsager/postgres#1119, #1181); and it dropped the promise of each new
 * connection's array-types query, so its failure was an unhandled rejection (#1192, #1205).
 */
import postgres from "postgres";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { useTestDatabase } from "../support/database";

const db = useTestDatabase();

test("a write to a terminated reserved connection rejects with CONNECTION_CLOSED instead of ending the process", async () => {
  const child = path.join(__dirname, "..", "support", "faults", "write-after-close.cjs");
  const { stdout } = await promisify(execFile)(process.execPath, [child, db.url], { timeout: 30_000 });
  const lines = stdout.trim().split("\n");
  expect(lines).not.toContainEqual(expect.stringMatching(/^uncaught/));
  const reserved = lines.filter((line) => line.startsWith("reserved:"));
  expect(reserved).toHaveLength(2);
  // Rejected (CONNECTION_CLOSED, or the server's 57P01 / a socket error, depending on what arrived
  // first), or never answered (another postgres.js bug, not guarded); never a result.
  expect(reserved).not.toContain("reserved: ok");
  expect(lines.at(-1)).toBe("pool: answers");
});

test("after a statement fails part-way through its rows, the next result on that connection has no empty slots", async () => {
  const one = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await expect(one`select 1 / (3 - g) as v from generate_series(1, 4) as g`).rejects.toMatchObject({ code: "22012" });
    const rows = await one`select 1 as x`;
    expect(rows.length).toBe(1);
    expect([...rows]).toEqual([{ x: 1 }]);
  } finally {
    await one.end({ timeout: 5 });
  }
});

test("a failing array-types query at connect is not an unhandled rejection: the query gets the error", async () => {
  const child = path.join(__dirname, "..", "support", "faults", "types-query-fails.cjs");
  const { stdout } = await promisify(execFile)(process.execPath, [child, db.url], { timeout: 30_000 });
  const lines = stdout.trim().split("\n");
  expect(lines).not.toContainEqual(expect.stringMatching(/^unhandled/));
  expect(lines).toContain("query: rejected 57014");
  expect(lines.at(-1)).toBe("done");
});
