/** The dashboard's JSON API: each route is one call of the public inspection functions. */
import type { Sql } from "postgres";
import { ConfigurationError } from "../../model/errors";
import type { ExecutionFilter } from "../../api/execution-filter";
import { cancelExecutions, listExecutions, retryExecutions, showExecution } from "../../api/inspect";
import { listOrchestrators, listPaused, listSchedules, listTableTriggers, queueStats } from "../../api/overview";

export interface RouteContext {
  sql: Sql;
  actions: boolean;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

const ok = (body: unknown): RouteResult => ({ status: 200, body });

/** ?status=failed&status=pending&task=…&queue=…&since=…&until=…&search=…&before=…&limit=… */
export function filterFromQuery(params: URLSearchParams): ExecutionFilter {
  const filter: ExecutionFilter = {};
  const list = (name: string) => params.getAll(name).flatMap((value) => value.split(",")).map((value) => value.trim()).filter(Boolean);
  if (list("status").length) filter.status = list("status") as ExecutionFilter["status"];
  if (list("task").length) filter.task = list("task");
  if (list("queue").length) filter.queue = list("queue");
  for (const name of ["since", "until"] as const) {
    const value = params.get(name);
    if (value) filter[name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  const search = params.get("search")?.trim();
  if (search) filter.search = search;
  const before = params.get("before");
  if (before) filter.before = before;
  const limit = params.get("limit");
  if (limit) filter.limit = Number(limit);
  return filter;
}

function bodyFilter(body: unknown): ExecutionFilter {
  const filter = (body as { filter?: unknown } | null)?.filter;
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) {
    throw new ConfigurationError('the request body must be { "filter": { … } }');
  }
  return filter as ExecutionFilter;
}

const reasonOf = (body: unknown) => {
  const reason = (body as { reason?: unknown } | null)?.reason;
  return typeof reason === "string" && reason.trim() ? reason.trim() : "cancelled from the dashboard";
};

/** null: not an API route. */
export async function apiRoute(ctx: RouteContext, method: string, path: string, query: URLSearchParams, body: unknown): Promise<RouteResult | null> {
  const one = /^\/api\/executions\/([^/]+)(?:\/(retry|cancel))?$/.exec(path);
  if (method === "GET") {
    if (path === "/api/overview") {
      const [queues, orchestrators, schedules, replication, pauses] = await Promise.all([
        queueStats(ctx.sql, { minutes: 60 }), listOrchestrators(ctx.sql), listSchedules(ctx.sql), listTableTriggers(ctx.sql), listPaused(ctx.sql),
      ]);
      return ok({ queues, orchestrators, schedules, tableTriggers: replication.triggers, slots: replication.slots, pauses, actions: ctx.actions });
    }
    if (path === "/api/executions") return ok({ executions: await listExecutions(ctx.sql, filterFromQuery(query)) });
    if (one && !one[2]) {
      const detail = await showExecution(ctx.sql, decodeURIComponent(one[1]));
      return detail ? ok(detail) : { status: 404, body: { error: `no execution ${one[1]}` } };
    }
    return null;
  }
  if (method !== "POST") return null;
  if (one?.[2] === "retry") return ok(await retryExecutions(ctx.sql, [decodeURIComponent(one[1])]));
  if (one?.[2] === "cancel") return ok(await cancelExecutions(ctx.sql, [decodeURIComponent(one[1])], { reason: reasonOf(body) }));
  if (path === "/api/retry") return ok(await retryExecutions(ctx.sql, bodyFilter(body)));
  if (path === "/api/cancel") return ok(await cancelExecutions(ctx.sql, bodyFilter(body), { reason: reasonOf(body) }));
  return null;
}
