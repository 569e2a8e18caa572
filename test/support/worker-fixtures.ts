/** Plain tasks and a turn-flusher for the worker's unit tests (no conductor, no database). */
import type { Task } from "../../src/model/task";

export function task(name: string, options: Record<string, unknown> = {}, handler: Task["handler"] = async () => null): Task {
  return { name, queue: "default", maxAttempts: 3, options: { name, ...options }, triggers: [], handler } as Task;
}

/** Lets every promise callback and setImmediate of the current turns run. */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };
