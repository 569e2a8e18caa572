import { retryExecution } from "../db/outcomes";
import { retryExecutions } from "../api/inspect";
import { assertInstalled, NOT_INSTALLED, withDatabase, type Command } from "./command";
import { bulkTarget, runBulk } from "./bulk";
import { FILTER_HELP, FILTER_OPTIONS } from "./filter-options";

export const retryCommand: Command = {
  name: "retry",
  summary: "Run a failed execution again, with a fresh set of attempts; its completed steps are kept and not re-run.",
  usage: "<execution-id>... | [--task T]... [--queue Q]... [--since TIME] [--until TIME] [--search TEXT] [--limit N]",
  help: ["Several ids, or every failed execution matching the filter (at most --limit, default 1000):", FILTER_HELP].join("\n"),
  options: FILTER_OPTIONS,
  positionals: [0, 10_000],
  async run(args, io) {
    const target = bulkTarget(args);
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      if ("ids" in target && target.ids.length === 1) return retryOne(sql, target.ids[0], io);
      return runBulk(sql, io, target, retryExecutions, "will run again");
    });
  },
};

async function retryOne(sql: Parameters<typeof retryExecution>[0], id: string, io: Parameters<Command["run"]>[1]): Promise<number> {
  let previous: string | null;
  try {
    previous = await retryExecution(sql, id);
  } catch (error) {
    if ((error as { code?: string }).code !== "23505") throw error;
    io.err(`${id} cannot run again: another unfinished execution of its task has the same dedupe key`);
    return 1;
  }
  if (previous === "failed") {
    io.out(`${id} will run again (completed steps are kept)`);
    return 0;
  }
  io.err(previous === null ? `no execution ${id}` : `${id} is ${previous}; only failed executions can be retried`);
  return 1;
}
