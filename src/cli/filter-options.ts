/** The execution filter as command-line options, shared by list, retry and cancel. */
import type { ExecutionFilter, ExecutionStatus } from "../api/execution-filter";
import { UsageError, type Options, type ParsedArgs } from "./command";

export const FILTER_OPTIONS: Options = {
  status: { type: "string", multiple: true },
  task: { type: "string", multiple: true },
  queue: { type: "string", multiple: true },
  since: { type: "string" },
  until: { type: "string" },
  search: { type: "string" },
  limit: { type: "string" },
};

export const FILTER_HELP = [
  "  --status S     pending, running, completed, failed or cancelled (repeatable)",
  "  --task T       task name (repeatable)",
  "  --queue Q      queue name (repeatable)",
  "  --since TIME   created at or after TIME: an ISO time or an age such as 30s, 15m, 2h, 7d",
  "  --until TIME   created before TIME (same forms)",
  "  --search TEXT  an execution id or a dedupe key",
  "  --limit N      at most N executions",
].join("\n");

const AGE = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An ISO time, or an age before `now` ("15m"). */
export function parseTimeOption(name: string, value: string, now = Date.now()): Date {
  const age = AGE.exec(value);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} "${value}" is neither an ISO time nor an age such as 15m, 2h or 7d`);
  return date;
}

export function filterFromArgs(args: ParsedArgs): ExecutionFilter {
  const v = args.values;
  const filter: ExecutionFilter = {};
  if (v.status) filter.status = v.status as ExecutionStatus[];
  if (v.task) filter.task = v.task as string[];
  if (v.queue) filter.queue = v.queue as string[];
  if (v.since) filter.since = parseTimeOption("since", v.since as string);
  if (v.until) filter.until = parseTimeOption("until", v.until as string);
  if (v.search !== undefined) filter.search = v.search as string;
  if (v.limit !== undefined) {
    const limit = Number(v.limit);
    if (!/^\d+$/.test(v.limit as string) || limit < 1) throw new UsageError(`--limit must be a whole number of at least 1, got "${v.limit}"`);
    filter.limit = limit;
  }
  return filter;
}

export function hasFilter(filter: ExecutionFilter): boolean {
  return Object.keys(filter).some((key) => key !== "limit");
}
