/**
 * The layer rule: model < db < streams < runtime < api < cli. A file under src/ imports its own
 * folder and anything below it, never above. src/dev/ (a local PostgreSQL for tests, the demo and
 * the bench) is a room of its own: inside src/ only cli may import it, and it imports only packages.
 * src/index.ts is the package's face and may import any layer.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import * as ts from "typescript";

const LAYERS = ["model", "db", "streams", "runtime", "api", "cli"] as const;
const SRC = resolve(__dirname, "../../src");

/** The room of a path relative to src/: a layer name, "dev", or "index" (the entry point). */
function roomOf(path: string): string {
  const [top] = path.split("/");
  return top.endsWith(".ts") ? "index" : top;
}

/** Why `from` may not import `to` (both relative to src/), or null when it may. */
export function violation(from: string, to: string): string | null {
  const a = roomOf(from);
  const b = roomOf(to);
  if (a === b || a === "index") return null;
  if (b === "dev") return a === "cli" ? null : `src/dev is for cli, tests, demo and bench only`;
  if (a === "dev") return `src/dev imports packages only`;
  if (b === "index") return `nothing inside src imports src/index.ts`;
  const rank = (room: string) => LAYERS.indexOf(room as (typeof LAYERS)[number]);
  if (rank(a) < 0 || rank(b) < 0) return `unknown folder (layers are ${LAYERS.join(" < ")}, plus dev)`;
  return rank(b) > rank(a) ? `${a} may not import ${b} (layers: ${LAYERS.join(" < ")})` : null;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import (static, dynamic, type-only, re-export) of every file under src/. */
function imports(): { file: string; specifier: string; target: string }[] {
  return sourceFiles(SRC).flatMap((path) => {
    const info = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
    return info.importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => ({
        file: relative(SRC, path),
        specifier,
        target: relative(SRC, resolve(dirname(path), specifier)),
      }));
  });
}

test("no file under src imports a layer above its own", () => {
  const found = imports()
    .map((edge) => ({ ...edge, why: violation(edge.file, edge.target) }))
    .filter((edge) => edge.why !== null)
    .map((edge) => `src/${edge.file} imports "${edge.specifier}": ${edge.why}`);
  expect(found).toEqual([]);
});

test("the import reader sees the files and their imports", () => {
  const all = imports();
  expect(all.some((edge) => edge.file === "api/conductor.ts" && edge.target.startsWith("model/"))).toBe(true);
  expect(all.length).toBeGreaterThan(100);
});

test("the rule rejects upward imports and allows downward ones", () => {
  expect(violation("runtime/worker.ts", "api/conductor")).toMatch(/runtime may not import api/);
  expect(violation("model/task.ts", "db/queries")).toMatch(/model may not import db/);
  expect(violation("runtime/table-changes/registry.ts", "model/errors")).toBeNull();
  expect(violation("api/orchestrator.ts", "runtime/engine")).toBeNull();
  expect(violation("runtime/engine.ts", "dev/local-postgres")).toMatch(/src\/dev/);
  expect(violation("cli/index.ts", "dev/local-postgres")).toBeNull();
  expect(violation("index.ts", "runtime/interruptions")).toBeNull();
  expect(violation("db/claim.ts", "index")).toMatch(/src\/index/);
});
