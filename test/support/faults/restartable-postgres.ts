/**
 * A PostgreSQL that one test owns and may stop and start again, on the same port and data
 * directory, so every client reconnects to the same address and finds its rows. Always the embedded
 * binaries (the major of PGCONDUCTOR_PG_MAJOR, 18 by default), even when DATABASE_URL points the rest
 * of the suite at another server: a shared server must never be restarted by a test.
 * Built from the same pieces as the suite's own server (src/dev/local-postgres.ts).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, initdb, localServerUrl, requestedMajor, startServer } from "../../../src/dev/local-postgres";
import { binariesFor, postgresUser } from "../../../src/dev/postgres-binaries";

export interface RestartablePostgres {
  /** URL of the `postgres` database; stays valid across restarts. */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /**
   * Stops the server. `fast` (SIGINT) ends sessions and checkpoints; `immediate` (SIGQUIT) is a crash
   * as far as the data goes: the next start replays the WAL.
   */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops, then starts. */
  restart(mode?: "fast" | "immediate"): Promise<void>;
  /** Stops it for good and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startRestartablePostgres(options: { log?: (line: string) => void } = {}): Promise<RestartablePostgres> {
  const log = options.log ?? (() => {});
  const binaries = binariesFor(requestedMajor(), log);
  const owner = postgresUser(log);
  const dataDir = mkdtempSync(join(tmpdir(), "pgconductor-faults-pg-"));
  await initdb(binaries, dataDir, owner, log);
  const port = await freePort();
  // The suite's server runs with synchronous_commit=off; here an immediate stop must not lose a
  // commit its client saw, or "completed exactly once" could not hold across a crash.
  const settings = { synchronous_commit: "on" };
  let server: ChildProcess | null = await startServer(binaries, dataDir, port, owner, log, settings);
  const onExit = () => server?.kill("SIGQUIT");
  process.on("exit", onExit);

  const stop = async (mode: "fast" | "immediate" = "fast") => {
    const current = server;
    server = null;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once("exit", () => resolve());
      current.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    });
  };
  const start = async () => {
    if (server) return;
    server = await startServer(binaries, dataDir, port, owner, log, settings);
  };
  return {
    url: localServerUrl(port),
    port,
    get running() {
      return server !== null;
    },
    stop,
    start,
    async restart(mode) {
      await stop(mode);
      await start();
    },
    async destroy() {
      await stop("fast");
      process.off("exit", onExit);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
