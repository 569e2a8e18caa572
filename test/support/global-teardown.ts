export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __PGCONDUCTOR_SERVER__?: { stop(): Promise<void> } }).__PGCONDUCTOR_SERVER__;
  await server?.stop();
}
