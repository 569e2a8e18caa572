// A child process for postgres-guards.test.ts: a reserved connection whose backend was
// terminated is written to again. Unguarded postgres.js 3.4.9 throws from a setImmediate and the
// process dies (exit 3 here); guarded, each query rejects with a code and the pool recovers.
const postgres = require("postgres");
process.on("uncaughtException", (error) => {
  console.log(`uncaught: ${error.message}`);
  process.exit(3);
});
(async () => {
  const url = process.argv[2];
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const reserved = await sql.reserve();
  const [{ pid }] = await reserved`select pg_backend_pid() as pid`;
  await admin`select pg_terminate_backend(${pid})`;
  await admin`select 1 from pg_stat_activity where pid = ${pid}`; // a round trip: the close has arrived
  for (let i = 0; i < 2; i++) {
    await reserved`select 1`.then(() => console.log("reserved: ok"), (error) => console.log(`reserved: ${error.code}`));
  }
  reserved.release();
  let answered = false;
  for (let i = 0; i < 3 && !answered; i++) {
    await sql`select 1 as one`.then(() => (answered = true), (error) => console.log(`pool: ${error.code}`));
  }
  console.log(answered ? "pool: answers" : "pool: no answer");
  await sql.end({ timeout: 1 });
  await admin.end({ timeout: 1 });
})().catch((error) => {
  console.log(`failed: ${error.message}`);
  process.exit(2);
});
