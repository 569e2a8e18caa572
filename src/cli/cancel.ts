import { cancelExecution } from "../db/outcomes";
import { readExecution } from "../db/observability";
import { cancelExecutions } from "../api/inspect";
import { assertInstalled, NOT_INSTALLED, withDatabase, type Command } from "./command";
import { bulkTarget, runBulk } from "./bulk";
import { FILTER_HELP, FILTER_OPTIONS } from "./filter-options";

export const cancelCommand: Command = {
  name: "cancel",
  summary: "Cancel an execution: a pending one never runs; a running one stops at its next step or checkpoint.",
  usage: "<execution-id>... [--reason TEXT] | [--task T]... [--queue Q]... [--status S]... [--since TIME] [--until TIME] [--search TEXT] [--limit N] [--reason TEXT]",
  help: [
    "Several ids, or the pending and running executions matching the filter (at most --limit, default 1000;",
    "a filter must name more than a status):",
    FILTER_HELP,
    "  --reason TEXT  recorded as the cancel reason",
  ].join("\n"),
  options: { ...FILTER_OPTIONS, reason: { type: "string" } },
  positionals: [0, 10_000],
  async run(args, io) {
    const target = bulkTarget(args);
    const reason = (args.values.reason as string | undefined) ?? null;
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      if ("ids" in target && target.ids.length === 1) {
        const id = target.ids[0];
        if (await cancelExecution(sql, id, reason)) {
          const row = await readExecution(sql, id);
          io.out(row?.status === "running" ? `cancelling ${id} (it stops at its next step or checkpoint)` : `cancelled ${id}`);
          return 0;
        }
        const row = await readExecution(sql, id);
        io.err(row ? `${id} is already ${row.status}; nothing to cancel` : `no execution ${id}`);
        return 1;
      }
      return runBulk(sql, io, target, (db, t) => cancelExecutions(db, t, { reason: reason ?? undefined }), "cancelled");
    });
  },
};
