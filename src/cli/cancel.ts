import { cancelExecution } from "../db/outcomes";
import { readExecution } from "../db/observability";
import { assertInstalled, executionIdArgument, NOT_INSTALLED, withDatabase, type Command } from "./command";

export const cancelCommand: Command = {
  name: "cancel",
  summary: "Cancel an execution: a pending one never runs; a running one stops at its next step or checkpoint.",
  usage: "<execution-id> [--reason TEXT]",
  options: { reason: { type: "string" } },
  positionals: [1, 1],
  async run(args, io) {
    const id = executionIdArgument(args.positionals[0]);
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      if (await cancelExecution(sql, id, (args.values.reason as string | undefined) ?? null)) {
        const row = await readExecution(sql, id);
        io.out(row?.status === "running" ? `cancelling ${id} (it stops at its next step or checkpoint)` : `cancelled ${id}`);
        return 0;
      }
      const row = await readExecution(sql, id);
      io.err(row ? `${id} is already ${row.status}; nothing to cancel` : `no execution ${id}`);
      return 1;
    });
  },
};
