import postgres from "postgres";
import { startLocalPostgres } from "../../src/dev/local-postgres";

/**
 * One PostgreSQL for the whole run: DATABASE_URL if set, else an embedded one of the major in
 * PGCONDUCTOR_PG_MAJOR (18 by default). The line it prints says which server the suite ran on
 * (`npm run test:matrix` reads it).
 */
export default async function globalSetup(): Promise<void> {
  const server = await startLocalPostgres();
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    process.env.PGCONDUCTOR_TEST_SERVER_VERSION = row.version;
    console.log(`\ntests run on PostgreSQL ${row.version} (${server.embedded ? "embedded" : "DATABASE_URL"})`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  process.env.PGCONDUCTOR_TEST_SERVER_URL = server.url;
  (globalThis as { __PGCONDUCTOR_SERVER__?: typeof server }).__PGCONDUCTOR_SERVER__ = server;
}
