import { defineConfig } from "tsup";

// The library (CommonJS and ESM, with types) and the `pgconductor` command that bin/ loads when built.
export default defineConfig([
  { entry: { index: "src/index.ts" }, format: ["cjs", "esm"], dts: true, shims: true, sourcemap: true, target: "node20" },
  { entry: { "cli/index": "src/cli/index.ts" }, format: ["cjs"], shims: true, sourcemap: true, target: "node20" },
]);
