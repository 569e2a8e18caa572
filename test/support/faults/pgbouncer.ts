/**
 * A real pgbouncer in transaction mode in front of a test's PostgreSQL: the pooler deployments put
 * between an application and its database, where LISTEN delivers nothing and session state
 * (prepared statements, advisory session locks) does not survive a transaction.
 * Installs the Debian package when the binary is missing (CI starts from a clean machine), writes
 * its own ini and userlist in a temporary directory, and runs as a child process on a free port.
 * Clients are trusted (auth_type trust); pgbouncer logs in to PostgreSQL with the target URL's user
 * and password. pgbouncer refuses to run as root, so as root it runs as the `postgres` user.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/dev/local-postgres";
import { postgresUser } from "../../../src/dev/postgres-binaries";
import { urlThroughPort } from "./tcp-proxy";

export interface PgBouncer {
  readonly port: number;
  /** `url` with host and port pointing at pgbouncer (same user, password and database). */
  urlFor(url: string): string;
  /** What pgbouncer wrote to its log so far. */
  readonly output: string;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"];

/** The pgbouncer binary, installed with apt-get when it is not there yet. */
export function ensurePgBouncer(): string {
  const found = () => CANDIDATES.find((path) => existsSync(path));
  const existing = found();
  if (existing) return existing;
  const apt = (args: string[]) => execFileSync("apt-get", args, { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  try {
    apt(["install", "-y", "--no-install-recommends", "pgbouncer"]);
  } catch {
    apt(["update"]);
    apt(["install", "-y", "--no-install-recommends", "pgbouncer"]);
  }
  const installed = found();
  if (!installed) throw new Error("pgbouncer: apt-get install pgbouncer did not provide the binary");
  return installed;
}

export async function startPgBouncer(targetUrl: string, options: { poolSize?: number; poolMode?: "transaction" | "session" } = {}): Promise<PgBouncer> {
  const binary = ensurePgBouncer();
  const target = new URL(targetUrl);
  const owner = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), "pgconductor-pgbouncer-"));
  owner.chown(dir);
  const port = await freePort();
  const user = decodeURIComponent(target.username || "postgres");
  const password = decodeURIComponent(target.password);
  const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
  const serverLogin = `user=${quote(user)}${password ? ` password=${quote(password)}` : ""}`;
  const ini = [
    "[databases]",
    `* = host=${target.hostname} port=${target.port || "5432"} ${serverLogin}`,
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${join(dir, "userlist.txt")}`,
    `pool_mode = ${options.poolMode ?? "transaction"}`,
    `default_pool_size = ${options.poolSize ?? 20}`,
    "max_client_conn = 1000",
    // postgres.js sends these at startup; pgbouncer refuses unknown startup parameters otherwise.
    "ignore_startup_parameters = extra_float_digits,options,application_name",
    "server_reset_query = DISCARD ALL",
    "",
  ].join("\n");
  writeFileSync(join(dir, "pgbouncer.ini"), ini);
  writeFileSync(join(dir, "userlist.txt"), `"${user}" "${password}"\n`);
  for (const file of ["pgbouncer.ini", "userlist.txt"]) owner.chown(join(dir, file));

  const child: ChildProcess = spawn(binary, [join(dir, "pgbouncer.ini")], { ...owner.ids, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const onExit = () => child.kill("SIGKILL");
  process.on("exit", onExit);
  try {
    await waitForPort(port, () => child.exitCode !== null || child.signalCode !== null, () => output);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    urlFor: (url: string) => urlThroughPort(url, port),
    get output() {
      return output;
    },
    async stop() {
      process.off("exit", onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT"); // immediate shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something accepts TCP connections on the port; fails when the process died first. */
async function waitForPort(port: number, died: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (died()) throw new Error(`pgbouncer exited during start: ${output().trim()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on port ${port}: ${output().trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
