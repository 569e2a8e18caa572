/** What retry and cancel share when they act on many executions (ids or a filter). */
import type { Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import type { BulkOutcome } from "../api/inspect";
import type { ExecutionFilter } from "../api/execution-filter";
import { executionIdArgument, UsageError, type CliIo, type ParsedArgs } from "./command";
import { filterFromArgs, hasFilter } from "./filter-options";

export type BulkTarget = { ids: string[] } | { filter: ExecutionFilter };

/** Ids from the arguments, or a filter from the options; never both, never neither. */
export function bulkTarget(args: ParsedArgs): BulkTarget {
  const filter = filterFromArgs(args);
  const ids = args.positionals.map(executionIdArgument);
  if (ids.length > 0 && (hasFilter(filter) || filter.limit !== undefined)) throw new UsageError("pass execution ids or filter options, not both");
  if (ids.length > 0) return { ids };
  if (!hasFilter(filter)) throw new UsageError("missing argument: execution ids, or filter options (--status, --task, --queue, --since, --until, --search)");
  return { filter };
}

/** Runs the bulk action, prints one line per execution and a summary; exit 1 when any was skipped. */
export async function runBulk(
  sql: Sql,
  io: CliIo,
  target: BulkTarget,
  act: (sql: Sql, target: ExecutionFilter | string[]) => Promise<BulkOutcome>,
  verb: string,
): Promise<number> {
  let outcome: BulkOutcome;
  try {
    outcome = await act(sql, "ids" in target ? target.ids : target.filter);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message.replace(/^\w+: /, ""));
    throw error;
  }
  for (const id of outcome.done) io.out(`${id} ${verb}`);
  for (const skip of outcome.skipped) io.err(`${skip.id} skipped: ${skip.reason}`);
  io.err(`${outcome.done.length} ${verb}${outcome.skipped.length ? `, ${outcome.skipped.length} skipped` : ""}`);
  return outcome.skipped.length > 0 ? 1 : 0;
}
