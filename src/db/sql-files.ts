/**
 * The numbered migrations of `sql/`. The build (tsup.config.ts) inlines them into dist/ as
 * `__PGCONDUCTOR_MIGRATIONS__`, so an app bundled with esbuild, webpack or Next.js and run from any
 * folder still installs the schema; running from the sources (tests, tsx) reads the folder itself.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface Migration {
  version: number;
  name: string;
  /** A breaking migration (first line `-- breaking`) asks older orchestrators to stop before it is applied. */
  breaking: boolean;
  text: string;
}

export interface SqlFile {
  file: string;
  text: string;
}

declare const __PGCONDUCTOR_MIGRATIONS__: readonly SqlFile[] | undefined;

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** The migrations in order: the ones built in, or those of `directory` (default: the package's `sql/`). */
export function loadMigrations(directory?: string): Migration[] {
  const inlined = typeof __PGCONDUCTOR_MIGRATIONS__ === "undefined" ? undefined : __PGCONDUCTOR_MIGRATIONS__;
  return parseMigrations(directory === undefined && inlined ? inlined : readMigrationFiles(directory ?? findSqlDirectory()));
}

/** The migration files of a folder, as the build inlines them. */
export function readMigrationFiles(directory: string): SqlFile[] {
  return readdirSync(directory)
    .filter((file) => FILE_NAME.test(file))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(directory, file), "utf8") }));
}

export function parseMigrations(files: readonly SqlFile[]): Migration[] {
  return files
    .map(({ file, text }) => ({ text, match: FILE_NAME.exec(file) }))
    .filter((entry): entry is { text: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ text, match }) => ({ version: Number(match[1]), name: match[2], breaking: /^--\s*breaking\b/.test(text), text }))
    .sort((a, b) => a.version - b.version);
}

/** `sql/` sits at the package root, above both `src/db` and `dist/`. */
function findSqlDirectory(): string {
  let directory = __dirname;
  for (;;) {
    const candidate = join(directory, "sql");
    if (existsSync(join(candidate, "001_core.sql"))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`pgconductor: cannot find the sql/ migrations above ${__dirname} (a bundle built from the sources needs them inlined, see tsup.config.ts)`);
    directory = parent;
  }
}
