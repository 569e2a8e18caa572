#!/usr/bin/env node
/**
 * Runs after `npm ci` / `npm install` of this repository (the `prepare` script; not when an app
 * installs pgconductor-js): guards postgres.js 3.4.x against two bugs that cut connections expose,
 * unfixed upstream in 3.4.9. The fault tests cut connections all the time and hit both now and then.
 *
 * 1. A connection that closes while a small write waits for setImmediate writes to a null socket
 *    and throws `TypeError: Cannot read properties of null (reading 'write')` from the timer:
 *    uncatchable, it ends the process (porsager/postgres#1154, #1208). Guarded, the connection's
 *    queries reject with CONNECTION_CLOSED instead (what a closed connection does anyway), and
 *    teardown forgets the cancelled timer, so the connection's next write is scheduled again.
 * 2. The row counter of a connection is reset only when a statement completes: after a result cut
 *    off by a closed connection or an error part-way through its rows, the next result on that
 *    connection starts with that many empty slots (porsager/postgres#1119, #1181). Guarded, the
 *    counter is reset with the result at every ReadyForQuery (also the one that ends a reconnect).
 * 3. The array-types query each new connection runs first (fetch_types) has its promise dropped: when
 *    it fails (the connection reset or refused during a restart, a statement_timeout) the rejection
 *    is unhandled and ends the process (porsager/postgres#1192, #1205, #1223; seen as a bare
 *    `read ECONNRESET` failing the postgres-restart fault test). Guarded, that rejection is caught:
 *    the app's own query gets the error, and the next connection fetches the types again.
 *
 * The README tells app authors how to apply the same guards. A version whose text no longer matches
 * (fixed upstream, or changed) is left alone, and the script says so.
 */
const fs = require("node:fs");
const path = require("node:path");

const GUARDS = [
  {
    name: "nextWrite on a closed socket",
    marker: "pgconductor-js: guard nextWrite",
    apply: (text) =>
      text
        .replace(
          "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
          "  function nextWrite(fn) {\n" +
            "    if (!socket) { // pgconductor-js: guard nextWrite, see scripts/patch-postgres.js\n" +
            "      chunk = nextWriteTimer = null\n" +
            "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
            "      return false\n" +
            "    }\n" +
            "    const x = socket.write(chunk, fn)",
        )
        .split("    clearImmediate(nextWriteTimer)\n")
        .join("    clearImmediate(nextWriteTimer), nextWriteTimer = null, chunk = null // pgconductor-js\n"),
    applies: (text) => text.includes("  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)"),
  },
  {
    name: "row counter after a cut-off result",
    marker: "pgconductor-js: guard rows",
    apply: (text) =>
      text.replace(
        "    query = results = errorResponse = null\n    result = new Result()\n",
        "    query = results = errorResponse = null\n    result = new Result()\n    rows = 0 // pgconductor-js: guard rows, see scripts/patch-postgres.js\n",
      ),
    applies: (text) => text.includes("    query = results = errorResponse = null\n    result = new Result()\n    connectTimer"),
  },
  {
    name: "dropped array-types promise",
    marker: "pgconductor-js: guard types",
    apply: (text) =>
      text.replace(
        "        return fetchArrayTypes()\n",
        "        return fetchArrayTypes().catch(() => {}) // pgconductor-js: guard types, see scripts/patch-postgres.js\n",
      ),
    applies: (text) => text.includes("        return fetchArrayTypes()\n"),
  },
];

const root = path.join(__dirname, "..", "node_modules", "postgres");
if (!fs.existsSync(path.join(root, "package.json"))) process.exit(0); // not installed: nothing to guard
const { version } = require(path.join(root, "package.json"));
for (const variant of ["src", "cjs/src", "cf/src"]) {
  const file = path.join(root, variant, "connection.js");
  if (!fs.existsSync(file)) continue;
  let text = fs.readFileSync(file, "utf8");
  for (const guard of GUARDS) {
    if (text.includes(guard.marker)) continue;
    if (!guard.applies(text)) {
      console.log(`patch-postgres: postgres ${version} ${variant}/connection.js: no place for "${guard.name}"; left as it is`);
      continue;
    }
    text = guard.apply(text);
    console.log(`patch-postgres: postgres ${version} ${variant}/connection.js: guarded ${guard.name}`);
  }
  fs.writeFileSync(file, text);
}
