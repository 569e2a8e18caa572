/**
 * The filter that finds executions, shared by listExecutions, bulk retry/cancel, the CLI and the
 * dashboard. Checked here, before any SQL: a bad value is an error naming the field and the rule.
 */
import { ConfigurationError } from "../model/errors";
import { assertStorableText } from "../model/validate";
import type { ExecutionQuery, ExecutionStatus } from "../db/inspect-executions";

export type { ExecutionStatus };

export const STATUSES: readonly ExecutionStatus[] = ["pending", "running", "completed", "failed", "cancelled"];
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 10_000;

export interface ExecutionFilter {
  status?: ExecutionStatus | readonly ExecutionStatus[];
  task?: string | readonly string[];
  queue?: string | readonly string[];
  /** Created at or after (Date, epoch ms or ISO text). */
  since?: Date | number | string;
  /** Created before. */
  until?: Date | number | string;
  /** An execution id or a dedupe key. */
  search?: string;
  /** The id of the last execution of the previous page: the next page starts after it. */
  before?: string;
  /** At most this many (default 50, at most 10000). */
  limit?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isExecutionId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

function names(field: string, value: string | readonly string[] | undefined, where: string): string[] | null {
  if (value === undefined) return null;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== "string" || item.length === 0)) {
    throw new ConfigurationError(`${where}: ${field} must be a non-empty string or a non-empty list of them, got ${JSON.stringify(value)}`);
  }
  for (const item of list) assertStorableText(where, field, item);
  return [...list];
}

function time(field: string, value: Date | number | string | undefined, where: string): Date | null {
  if (value === undefined) return null;
  const date = value instanceof Date ? value : typeof value === "number" || typeof value === "string" ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new ConfigurationError(`${where}: ${field} must be a Date, epoch milliseconds or an ISO time, got ${JSON.stringify(value)}`);
  }
  return date;
}

export function compileExecutionFilter(filter: ExecutionFilter = {}, where = "listExecutions", defaultLimit = DEFAULT_LIMIT): ExecutionQuery {
  if (filter === null || typeof filter !== "object") throw new ConfigurationError(`${where}: the filter must be an object`);
  const known = new Set(["status", "task", "queue", "since", "until", "search", "before", "limit"]);
  for (const key of Object.keys(filter)) {
    if (!known.has(key)) throw new ConfigurationError(`${where}: unknown filter field "${key}" (fields: ${[...known].join(", ")})`);
  }
  const statuses = names("status", filter.status, where);
  for (const status of statuses ?? []) {
    if (!STATUSES.includes(status as ExecutionStatus)) {
      throw new ConfigurationError(`${where}: unknown status "${status}" (statuses: ${STATUSES.join(", ")})`);
    }
  }
  const limit = filter.limit ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ConfigurationError(`${where}: limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(filter.limit)}`);
  }
  if (filter.before !== undefined && !isExecutionId(filter.before)) {
    throw new ConfigurationError(`${where}: before must be an execution id (a UUID), got ${JSON.stringify(filter.before)}`);
  }
  if (filter.search !== undefined && (typeof filter.search !== "string" || filter.search.trim() === "")) {
    throw new ConfigurationError(`${where}: search must be a non-empty string (an execution id or a dedupe key)`);
  }
  if (filter.search !== undefined) assertStorableText(where, "search", filter.search);
  const search = filter.search?.trim();
  return {
    statuses: statuses as ExecutionStatus[] | null,
    tasks: names("task", filter.task, where),
    queues: names("queue", filter.queue, where),
    since: time("since", filter.since, where),
    until: time("until", filter.until, where),
    search: search === undefined ? null : { id: isExecutionId(search) ? search : null, key: search },
    before: filter.before ?? null,
    limit,
  };
}

/** Whether the filter narrows anything beyond status and limit (bulk cancel insists on it). */
export function narrowsBeyondStatus(query: ExecutionQuery): boolean {
  return Boolean(query.tasks || query.queues || query.since || query.until || query.search || query.before);
}
