/**
 * The README's quick start, as written there, run in a child process: it starts, runs the task, and
 * on SIGTERM stops gracefully and exits by itself (its own `sql` pool stays open, which used to keep
 * the process alive forever).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useTestDatabase } from "../../support/database";

const root = join(__dirname, "..", "..", "..");
const db = useTestDatabase();

/** The first ```ts block under "## Quick start". */
function quickStartCode(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const code = /```ts\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf("\n## ", 3)))?.[1];
  if (!code) throw new Error("README: no ts block in the Quick start section");
  return code;
}

test("the quick start exits by itself on SIGTERM once it has stopped gracefully", async () => {
  const folder = mkdtempSync(join(tmpdir(), "pgconductor-quick-start-"));
  let child: ReturnType<typeof spawn> | undefined;
  try {
    writeFileSync(join(folder, "quick-start.mts"), quickStartCode());
    symlinkSync(join(root, "node_modules"), join(folder, "node_modules"));
    // tsx resolves "pgconductor-js" through the repository's tsconfig paths (to src/).
    child = spawn(process.execPath, ["--import", "tsx", join(folder, "quick-start.mts")], {
      cwd: folder,
      env: { ...process.env, DATABASE_URL: db.url, TSX_TSCONFIG_PATH: join(root, "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const ran = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("sending to ada@example.com")) resolve();
      };
      child!.stdout!.on("data", onData);
      child!.stderr!.on("data", onData);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once("exit", (code, signal) => resolve({ code, signal })),
    );
    await Promise.race([ran, exited.then(() => Promise.reject(new Error(`the quick start exited early:\n${output}`)))]);
    child.kill("SIGTERM");
    const { code, signal } = await exited;
    expect(output).toContain("received SIGTERM, stopping gracefully");
    // Ended by the signal, as Node ends a process without handlers (or 0, had it had nothing open).
    expect(signal === "SIGTERM" || code === 0).toBe(true);
    expect((await db.sql`select count(*)::int as n from pgconductor.orchestrators`)[0].n).toBe(0);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(folder, { recursive: true, force: true });
  }
}, 60_000);
