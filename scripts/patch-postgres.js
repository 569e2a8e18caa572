#!/usr/bin/env node
/**
 * Runs after `npm ci` / `npm install` of this repository (not of an app that depends on
 * pgconductor-js): guards postgres.js 3.4.x against writing to a socket its connection has already
 * closed. Unpatched, a connection that closes while a small write waits for setImmediate throws
 * `TypeError: Cannot read properties of null (reading 'write')` from the timer: uncatchable, it
 * ends the process (porsager/postgres#1154, #1208; unfixed in 3.4.9). The fault tests cut
 * connections all the time and hit it now and then. The guard rejects the connection's queries
 * with CONNECTION_CLOSED instead (what a closed connection does anyway), and teardown forgets the
 * cancelled timer, so the connection's next write is scheduled again (the other half of #1208).
 * The README tells app authors how to apply the same guard. A version without the bug (the text
 * below no longer matches) is left alone.
 */
const fs = require("node:fs");
const path = require("node:path");

const UNGUARDED = "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)";
const GUARDED =
  "  function nextWrite(fn) {\n" +
  "    if (!socket) { // pgconductor-js: guard, see scripts/patch-postgres.js\n" +
  "      chunk = nextWriteTimer = null\n" +
  "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
  "      return false\n" +
  "    }\n" +
  "    const x = socket.write(chunk, fn)";
const STALE_TIMER = "    clearImmediate(nextWriteTimer)\n";
const FORGET_TIMER = "    clearImmediate(nextWriteTimer), nextWriteTimer = null, chunk = null // pgconductor-js\n";

const root = path.join(__dirname, "..", "node_modules", "postgres");
if (!fs.existsSync(path.join(root, "package.json"))) process.exit(0); // not installed: nothing to guard
const { version } = require(path.join(root, "package.json"));
for (const variant of ["src", "cjs/src", "cf/src"]) {
  const file = path.join(root, variant, "connection.js");
  if (!fs.existsSync(file)) continue;
  const text = fs.readFileSync(file, "utf8");
  if (text.includes("pgconductor-js: guard")) continue;
  if (!text.includes(UNGUARDED)) {
    console.log(`patch-postgres: postgres ${version} ${variant}/connection.js has no unguarded nextWrite; left as it is`);
    continue;
  }
  fs.writeFileSync(file, text.replace(UNGUARDED, GUARDED).split(STALE_TIMER).join(FORGET_TIMER));
  console.log(`patch-postgres: guarded nextWrite in postgres ${version} ${variant}/connection.js`);
}
