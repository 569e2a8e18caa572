import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** Starts a fixture script under tsx and resolves once it prints a line starting with `ready`. */
export async function startFixture(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; readyLine: string }> {
  // `node --import tsx` rather than the tsx binary: the binary forks a second node process that a
  // SIGKILL of the parent would leave running.
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "..", "fixtures", script)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const readyLine = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith("ready"));
      if (line) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`fixture ${script} exited early with code ${code}`)));
  });
  return { child, readyLine };
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
