/**
 * postgres.js 3.4.9 writes to a connection's socket after the connection closed and throws from a
 * timer, ending the process (porsager/postgres#1154, #1208). `npm ci` guards the installed copy
 * (scripts/patch-postgres.js); this checks the guard is there and works, in a child process so
 * an unguarded driver takes down only the child.
 */
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
  expect(lines.filter((line) => line.startsWith("reserved:"))).toEqual(["reserved: CONNECTION_CLOSED", "reserved: CONNECTION_CLOSED"]);
  expect(lines.at(-1)).toBe("pool: answers");
});
