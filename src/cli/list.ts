import { ConfigurationError } from "../model/errors";
import { listExecutions, type ExecutionSummary } from "../api/inspect";
import { assertInstalled, NOT_INSTALLED, UsageError, withDatabase, type Command } from "./command";
import { FILTER_HELP, FILTER_OPTIONS, filterFromArgs } from "./filter-options";
import { renderTable } from "./table";

export const listCommand: Command = {
  name: "list",
  summary: "List executions, newest first, filtered by status, task, queue, time, id or dedupe key.",
  usage: "[--status S]... [--task T]... [--queue Q]... [--since TIME] [--until TIME] [--search TEXT] [--limit N] [--json | --ids]",
  help: [
    FILTER_HELP,
    "  --json         one JSON array of executions",
    "  --ids          only the ids, one per line (what `retry` and `cancel` take)",
    "",
    "Default limit: 50. Example: pgconductor retry $(pgconductor list --status failed --ids)",
  ].join("\n"),
  options: { ...FILTER_OPTIONS, json: { type: "boolean" }, ids: { type: "boolean" } },
  positionals: [0, 0],
  async run(args, io) {
    const filter = filterFromArgs(args);
    if (args.values.json && args.values.ids) throw new UsageError("--json and --ids exclude each other");
    return withDatabase(args, io, async (sql) => {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      let rows: ExecutionSummary[];
      try {
        rows = await listExecutions(sql, filter);
      } catch (error) {
        if (error instanceof ConfigurationError) throw new UsageError(error.message.replace(/^listExecutions: /, ""));
        throw error;
      }
      if (args.values.json) io.out(JSON.stringify(rows, null, 2));
      else if (args.values.ids) rows.forEach((row) => io.out(row.id));
      else if (rows.length === 0) io.err("no executions match");
      else io.out(renderList(rows));
      return 0;
    });
  },
};

export function renderList(rows: readonly ExecutionSummary[]): string {
  return renderTable(
    ["id", "task", "queue", "status", "attempts", "created", "error"],
    rows.map((row) => [
      row.id, row.task, row.queue, row.status, `${row.attempts}/${row.maxAttempts ?? "?"}`,
      row.createdAt.toISOString(), oneLine(row.lastError ?? "", 60),
    ]),
  );
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
