#!/usr/bin/env node
// The `pgconductor` command. A built package runs dist/cli; in a checkout without a build, tsx
// compiles src/cli on the fly (tsx is a dev dependency).
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const built = join(__dirname, "..", "dist", "cli", "index.js");
if (existsSync(built)) {
  require(built).run();
} else {
  require("tsx/cjs");
  require(join(__dirname, "..", "src", "cli", "index.ts")).run();
}
