#!/usr/bin/env node
// The `pgconductor` command. In a checkout (src/ present) it runs the sources through tsx, a dev
// dependency, so no build is needed and a stale dist/ is never used; the published package ships
// dist/ without src/ and runs the build.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const source = join(root, "src", "cli", "index.ts");
if (existsSync(source)) {
  require("tsx/cjs");
  require(source).run();
} else {
  require(join(root, "dist", "cli", "index.js")).run();
}
