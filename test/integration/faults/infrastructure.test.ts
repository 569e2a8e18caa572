/**
 * The fault tests' own parts do what they claim: the proxy cuts and blackholes, the restartable
 * PostgreSQL keeps its data across a restart, pgbouncer pools in transaction mode.
 */
import postgres from "postgres";
import { eventually } from "../../support/helpers";
import { startPgBouncer } from "../../support/faults/pgbouncer";
import { startRestartablePostgres, type RestartablePostgres } from "../../support/faults/restartable-postgres";
import { startTcpProxy, type TcpProxy } from "../../support/faults/tcp-proxy";

let server: RestartablePostgres;
let proxy: TcpProxy;
beforeAll(async () => {
  server = await startRestartablePostgres();
  proxy = await startTcpProxy({ host: "127.0.0.1", port: server.port });
});
afterAll(async () => {
  await proxy?.close();
  await server?.destroy();
});

test("a cut resets the client's connection; the next query reconnects through the proxy", async () => {
  const sql = postgres(proxy.urlFor(server.url), { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    const acceptedBefore = proxy.accepted;
    const pending = sql`select pg_sleep(5)`.then(() => null, (error: unknown) => error); // postgres.js sends a query once it is awaited
    const direct = postgres(server.url, { max: 1, onnotice: () => {} });
    await eventually(async () => (await direct`select 1 from pg_stat_activity where query = 'select pg_sleep(5)' and state = 'active'`).length === 1, { what: "the query to run" });
    await direct.end({ timeout: 1 });
    expect(proxy.cut()).toBe(1);
    expect(await pending).toMatchObject({ code: expect.stringMatching(/ECONNRESET|CONNECTION_CLOSED/) });
    // postgres.js hands a query issued between the socket's 'error' and 'close' events to the dying
    // connection and never answers it: let the close callbacks run first (next event-loop turn).
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(sql`select 2 as n`).resolves.toEqual([{ n: 2 }]);
    expect(proxy.accepted).toBe(acceptedBefore + 1);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test("a blackholed connection stays open and silent until resumed, then delivers what it held", async () => {
  const sql = postgres(proxy.urlFor(server.url), { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    expect(proxy.blackhole()).toBe(1);
    let answered = false;
    const pending = sql`select 42 as n`.then((rows) => ((answered = true), rows));
    const direct = postgres(server.url, { max: 1, onnotice: () => {} });
    // The server has the query's session but never saw the query: it is idle there.
    const [{ n }] = await direct<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where state = 'idle' and backend_type = 'client backend' and pid <> pg_backend_pid()`;
    await direct.end({ timeout: 1 });
    expect(n).toBeGreaterThanOrEqual(1);
    expect(answered).toBe(false);
    proxy.resume();
    await expect(pending).resolves.toEqual([{ n: 42 }]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test("the restartable server keeps its data across a fast and an immediate restart on the same port", async () => {
  const sql = postgres(server.url, { max: 1, onnotice: () => {}, backoff: () => 0.1 });
  try {
    await sql`create table if not exists kept (n int)`;
    await sql`insert into kept values (1)`;
    await server.restart("fast");
    await sql`insert into kept values (2)`;
    await server.restart("immediate");
    await expect(sql`select count(*)::int as n from kept`).resolves.toEqual([{ n: 2 }]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test("pgbouncer in transaction mode: queries pass, session state does not survive a transaction", async () => {
  const bouncer = await startPgBouncer(server.url, { poolSize: 2 });
  const sql = postgres(bouncer.urlFor(server.url), { max: 4, prepare: false, onnotice: () => {} });
  try {
    await expect(sql`select 1 as n`).resolves.toEqual([{ n: 1 }]);
    // Two clients' transactions share server connections: backend pids seen by 4 clients are at most 2.
    const pids = await Promise.all([1, 2, 3, 4].map(() => sql.begin(async (tx) => (await tx`select pg_backend_pid() as pid, pg_sleep(0.05)`)[0].pid)));
    expect(new Set(pids).size).toBeLessThanOrEqual(2);
  } finally {
    await sql.end({ timeout: 1 });
    await bouncer.stop();
  }
});
