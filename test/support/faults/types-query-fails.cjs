// A child process for postgres-guards.test.ts: a connection whose internal array-types query fails
// (a 1 ms statement_timeout at startup cancels it). Unguarded postgres.js 3.4.9 drops that promise
// and the rejection is unhandled (exit 3 here); guarded, the app's own query decides the outcome.
const postgres = require("postgres");
process.on("unhandledRejection", (error) => {
  console.log(`unhandled: ${error && error.message}`);
  process.exit(3);
});
(async () => {
  const sql = postgres(process.argv[2], { max: 1, onnotice: () => {}, connection: { statement_timeout: 1 } });
  const outcome = await sql`select 1 as one`.then(() => "answered", (error) => `rejected ${error.code}`);
  console.log(`query: ${outcome}`);
  await new Promise((resolve) => setImmediate(resolve)); // a dropped rejection is reported by the next turn
  await sql.end({ timeout: 1 });
  console.log("done");
})();
