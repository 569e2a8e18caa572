/**
 * The package version for `pgconductor --version`. The build inlines it (tsup.config.ts,
 * `__PGCONDUCTOR_VERSION__`); from the sources it is read from the package.json above this folder.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

declare const __PGCONDUCTOR_VERSION__: string | undefined;

export function packageVersion(): string {
  if (typeof __PGCONDUCTOR_VERSION__ === "string") return __PGCONDUCTOR_VERSION__;
  for (let directory = __dirname; ; directory = dirname(directory)) {
    const file = join(directory, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "pgconductor-js" && manifest.version) return manifest.version;
    }
    if (dirname(directory) === directory) return "unknown";
  }
}
