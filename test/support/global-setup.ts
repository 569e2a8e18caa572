import { startLocalPostgres } from "../../src/dev/local-postgres";

export default async function globalSetup(): Promise<void> {
  const server = await startLocalPostgres();
  process.env.PGCONDUCTOR_TEST_SERVER_URL = server.url;
  (globalThis as { __PGCONDUCTOR_SERVER__?: typeof server }).__PGCONDUCTOR_SERVER__ = server;
}
