/**
 * The published shape: `npm run build` (tsup) emits CommonJS and ESM with declarations, and both
 * load and find the shipped sql/ migrations (checked by installing the schema through each build).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

/**
 * What Next.js, serverless functions and single-file deploys do: bundle the app with the library into
 * one file and run it somewhere else. The bundle lives in a temporary folder with no node_modules and
 * no sql/ beside it, so the schema must come from inside the build.
 */
test("an app bundled with esbuild and run from a temporary folder installs, invokes and runs a task", async () => {
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  const folder = mkdtempSync(join(tmpdir(), "pgconductor-bundle-"));
  try {
    writeFileSync(
      join(folder, "app.ts"),
      `import { Conductor, Orchestrator, TaskSchemas, defineTask } from "pgconductor-js";
      const tasks = TaskSchemas.fromSchema([defineTask({ name: "double" })]);
      const conductor = Conductor.create({ connectionString: process.env.URL!, tasks, context: {} });
      const double = conductor.createTask({ name: "double" }, { invocable: true }, async (event: { payload: { n: number } }) => ({ n: event.payload.n * 2 }));
      const orchestrator = Orchestrator.create({ conductor, tasks: [double], handleSignals: false });
      await orchestrator.start();
      const result = await conductor.invokeAndWait({ name: "double" }, { n: 21 }, { timeoutMs: 30_000 });
      console.log(JSON.stringify(result));
      await orchestrator.stop();
      await conductor.close();`,
    );
    buildSync({
      entryPoints: [join(folder, "app.ts")],
      outfile: join(folder, "app.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      alias: { "pgconductor-js": join(root, "dist", "index.mjs") },
      nodePaths: [join(root, "node_modules")],
      // pg's optional native binding; pg falls back to JavaScript without it.
      external: ["pg-native"],
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: "error",
    });
    rmSync(join(folder, "app.ts"));
    const output = execFileSync(process.execPath, [join(folder, "app.mjs")], { cwd: folder, env: { ...process.env, URL: db.url }, encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(output.trim().split("\n").at(-1)!)).toEqual({ n: 42 });
    const [row] = await db.sql<{ v: number }[]>`select max(version)::int as v from pgconductor.migrations`;
    expect(row.v).toBeGreaterThanOrEqual(6);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}, 120_000);

test("the tarball ships the LICENSE", () => {
  const files = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }))[0].files.map((f: { path: string }) => f.path);
  expect(files).toContain("LICENSE");
  expect(files).toContain("dist/index.js");
});

test("the built command prints the package version (inlined at build time)", () => {
  const { version } = require(join(root, "package.json")) as { version: string };
  const output = execFileSync(process.execPath, ["-e", `require("./dist/cli/index.js").run(["--version"])`], { cwd: root, encoding: "utf8" });
  expect(output.trim()).toBe(version);
  expect(readFileSync(join(root, "dist", "cli", "index.js"), "utf8")).not.toContain("__PGCONDUCTOR_VERSION__");
});
