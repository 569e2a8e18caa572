import { retryExecution } from "../db/outcomes";
import { assertInstalled, executionIdArgument, NOT_INSTALLED, withDatabase, type Command } from "./command";

export const retryCommand: Command = {
  name: "retry",
  summary: "Run a failed execution again, with a fresh set of attempts; its completed steps are kept and not re-run.",
  usage: "<execution-id>",
  options: {},
  positionals: [1, 1],
  async run(args, io) {
    const id = executionIdArgument(args.positionals[0]);
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
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
    });
  },
};
