/**
 * The published shape: `npm run build` (tsup) emits CommonJS and ESM with declarations, and both
 * load and find the shipped sql/ migrations (checked by installing the schema through each build).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/database";

const root = join(__dirname, "..", "..");
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  execFileSync(process.execPath, [join(root, "node_modules", "tsup", "dist", "cli-default.js")], { cwd: root, stdio: "pipe" });
}, 120_000);
afterAll(async () => db.drop());

const script = (load: string) => `
  ${load}
  const postgres = pg.default ?? pg;
  const sql = postgres(process.env.URL, { onnotice: () => {} });
  const conductor = lib.Conductor.create({ sql, tasks: lib.TaskSchemas.fromSchema([lib.defineTask({ name: "x" })]) });
  conductor.ensureInstalled().then(async () => {
    const [row] = await sql\`select max(version)::int as v from pgconductor.migrations\`;
    console.log(JSON.stringify({ version: row.v, exports: Object.keys(lib).sort().length }));
    await sql.end();
  });`;

test.each([
  ["CommonJS", ["-e", script(`const lib = require("./dist/index.js"); const pg = require("postgres");`)]],
  ["ESM", ["--input-type=module", "-e", script(`const lib = await import("./dist/index.mjs"); const pg = await import("postgres");`)]],
])("the %s build loads and installs the schema", (_format, args) => {
  expect(existsSync(join(root, "dist", "index.d.ts"))).toBe(true);
  expect(existsSync(join(root, "dist", "index.d.mts"))).toBe(true);
  const output = execFileSync(process.execPath, args, { cwd: root, env: { ...process.env, URL: db.url }, encoding: "utf8" });
  const parsed = JSON.parse(output.trim().split("\n").at(-1)!);
  expect(parsed.version).toBeGreaterThanOrEqual(6);
  expect(parsed.exports).toBeGreaterThan(10);
});
