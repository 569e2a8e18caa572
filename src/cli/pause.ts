/** `pgconductor pause|resume --queue Q | --task T`: the same as conductor.pause / resume. */
import { setPaused } from "../db/flow-control";
import { assertInstalled, NOT_INSTALLED, UsageError, withDatabase, type Command, type ParsedArgs } from "./command";

function targetOf(args: ParsedArgs): { kind: "queue" | "task"; name: string } {
  const queue = args.values.queue as string | undefined;
  const task = args.values.task as string | undefined;
  if ((queue === undefined) === (task === undefined)) throw new UsageError("give exactly one of --queue and --task");
  return queue !== undefined ? { kind: "queue", name: queue } : { kind: "task", name: task! };
}

function pauseCommand(paused: boolean): Command {
  const verb = paused ? "pause" : "resume";
  return {
    name: verb,
    summary: paused
      ? "Pause a queue or a task everywhere (persisted): nothing of it starts; running executions finish."
      : "Resume a paused queue or task; workers start its waiting work at once.",
    usage: "--queue NAME | --task NAME",
    help: [`  --queue NAME   ${verb} this queue (every task in it)`, `  --task NAME    ${verb} this task (in every queue)`].join("\n"),
    options: { queue: { type: "string" }, task: { type: "string" } },
    positionals: [0, 0],
    async run(args, io) {
      const target = targetOf(args);
      return withDatabase(args, io, async (sql) => {
        if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
        const changed = await setPaused(sql, target, paused);
        io.out(`${target.kind} ${target.name} ${changed ? (paused ? "paused" : "resumed") : paused ? "was already paused" : "was not paused"}`);
        return 0;
      });
    },
  };
}

export const pauseCommands: Command[] = [pauseCommand(true), pauseCommand(false)];
