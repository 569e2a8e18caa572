import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface Migration {
  version: number;
  name: string;
  /** A breaking migration (first line `-- breaking`) asks older orchestrators to stop before it is applied. */
  breaking: boolean;
  text: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** The numbered migrations shipped in the package's `sql/` folder, in order. */
export function loadMigrations(directory = findSqlDirectory()): Migration[] {
  return readdirSync(directory)
    .map((file) => ({ file, match: FILE_NAME.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => {
      const text = readFileSync(join(directory, file), "utf8");
      return { version: Number(match[1]), name: match[2], breaking: /^--\s*breaking\b/.test(text), text };
    })
    .sort((a, b) => a.version - b.version);
}

/** `sql/` sits at the package root, above both `src/db` and `dist/`. */
function findSqlDirectory(): string {
  let directory = __dirname;
  for (;;) {
    const candidate = join(directory, "sql");
    if (existsSync(join(candidate, "001_core.sql"))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`pgconductor: cannot find the sql/ migrations above ${__dirname}`);
    directory = parent;
  }
}
