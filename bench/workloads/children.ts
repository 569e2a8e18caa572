/** Starting and stopping bench child processes (child-orchestrator.ts) from a workload. */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** The no-op task every child runs. */
export const CHILD_TASK = "bench-proc";

export interface ChildArgs {
  databaseUrl: string;
  concurrency: number;
  /** Report memory every this many handled jobs (0: never). */
  checkpointEvery: number;
}

export type ChildMessage =
  | { type: "ready" }
  | { type: "checkpoint"; handled: number; rss: number; heap: number }
  | { type: "stopped"; handled: number };

export interface Child {
  process: ChildProcess;
  /** Resolves with the child's handled count once it stopped. */
  stop(): Promise<number>;
}

/** Forks a child and resolves once its Orchestrator runs; `onMessage` sees every message. */
export function startChild(args: ChildArgs, onMessage: (message: ChildMessage) => void = () => {}): Promise<Child> {
  const child = fork(join(__dirname, "child-orchestrator.ts"), [JSON.stringify(args)], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let stopped: ((handled: number) => void) | null = null;
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      if (stopped === null) reject(new Error(`bench child exited with code ${code} before it was ready`));
    });
    child.on("message", (message: ChildMessage) => {
      onMessage(message);
      if (message.type === "ready") {
        resolve({
          process: child,
          stop: () =>
            new Promise<number>((done) => {
              stopped = done;
              child.send({ type: "stop" });
            }),
        });
      } else if (message.type === "stopped") {
        stopped?.(message.handled);
      }
    });
  });
}
