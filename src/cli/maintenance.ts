import { runMaintenance } from "../runtime/maintenance";
import { assertInstalled, NOT_INSTALLED, withDatabase, type Command } from "./command";

export const maintenanceCommand: Command = {
  name: "maintenance",
  summary: "Run retention and cleanup now (what orchestrators run daily), unless another process is running it.",
  usage: "",
  help:
    "Removes finished executions past their task's removeOnComplete / removeOnFail, orphaned steps,\n" +
    "idle throttle/debounce gates and orchestrator records silent for an hour.",
  options: {},
  positionals: [0, 0],
  async run(args, io) {
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) {
        io.err(NOT_INSTALLED);
        return 1;
      }
      const report = await runMaintenance(sql, { leaseMs: 60 * 60 * 1000 });
      if (!report) {
        io.out("maintenance is running in another process; nothing done");
        return 0;
      }
      io.out(
        `removed ${report.completed} completed and ${report.failed} failed/cancelled executions, ` +
          `${report.steps} orphaned steps, ${report.gates} idle gates, ${report.orchestrators} dead orchestrator records`,
      );
      return 0;
    });
  },
};
