/**
 * A child process of the bench: one Conductor + Orchestrator running the no-op task `bench-proc`
 * on the database given in argv. Talks to the parent over the fork IPC channel:
 *   child -> parent  { type: "ready" } once started, { type: "checkpoint", handled, rss, heap }
 *                    every `checkpointEvery` handled jobs, { type: "stopped", handled } at the end;
 *   parent -> child  { type: "stop" }.
 * At a checkpoint it forces a garbage collection first (run with --expose-gc), so `heap` is the
 * live heap, not whatever garbage the last minor collections left.
 */
import { Conductor, Orchestrator, TaskSchemas, type DefineTask } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";

import { CHILD_TASK, type ChildArgs, type ChildMessage } from "./children";

type Tasks = [DefineTask<{ name: typeof CHILD_TASK; payload: { seq: number } }>];

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ChildArgs;
  const conductor = Conductor.create({ connectionString: args.databaseUrl, tasks: TaskSchemas.fromTypes<Tasks>(), logger: silentLogger });
  let handled = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const task = conductor.createTask({ name: CHILD_TASK }, { invocable: true }, async () => {
    handled += 1;
    if (args.checkpointEvery > 0 && handled % args.checkpointEvery === 0) {
      gc?.();
      const memory = process.memoryUsage();
      send({ type: "checkpoint", handled, rss: memory.rss, heap: memory.heapUsed });
    }
  });
  const orchestrator = Orchestrator.create({ conductor, tasks: [task], defaultWorker: { concurrency: args.concurrency }, handleSignals: false });
  process.on("message", (message: { type: string }) => {
    if (message.type !== "stop") return;
    void (async () => {
      await orchestrator.stop();
      await conductor.close();
      send({ type: "stopped", handled });
      process.disconnect?.();
    })();
  });
  await orchestrator.start();
  send({ type: "ready" });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
