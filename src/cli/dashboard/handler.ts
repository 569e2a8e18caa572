/**
 * The dashboard as a plain Node request handler: `(req, res, next?)`, so it mounts in node:http,
 * Express (`app.use("/ops", dashboard.handler)`) or Fastify (through `req.raw`, `reply.raw`). The
 * page, its script and style are strings served from here: nothing to build. Reads go through the
 * public inspection functions; live updates come from observe() over server-sent events.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import postgres, { type Sql } from "postgres";
import { ConfigurationError } from "../../model/errors";
import { silentLogger, type Logger } from "../../model/logger";
import { Observability } from "../../api/observability";
import { PROMETHEUS_CONTENT_TYPE, prometheusMetrics } from "../../api/prometheus";
import { serveLiveEvents } from "./live-events";
import { pageHtml, PAGE_SCRIPT, PAGE_STYLE } from "./page";
import { apiRoute, type RouteContext } from "./routes";
import { authenticate, authorizeAction, type DashboardAuth, type RequestFacts } from "./security";

export type { DashboardAuth };

export interface DashboardOptions {
  /** postgres.js instance on the database (or connectionString: the dashboard then owns a small pool). */
  sql?: Sql;
  connectionString?: string;
  /** Allow retry and cancel from the page (default false: read-only). */
  actions?: boolean;
  /** Required for clients beyond localhost: a token, or basic-auth credentials. */
  auth?: DashboardAuth;
  logger?: Logger;
  /**
   * The path it is mounted under when the server passes full URLs (node:http, Fastify), e.g. "/ops".
   * Not needed with Express's app.use("/ops", …), which strips the prefix itself.
   */
  basePath?: string;
}

export interface Dashboard {
  handler(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Ends live streams and the LISTEN connection (and the pool, when the dashboard opened it). */
  close(): Promise<void>;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  if (!options || (options.sql ? 1 : 0) + (options.connectionString ? 1 : 0) !== 1) {
    throw new ConfigurationError("createDashboard: pass exactly one of sql (a postgres.js instance) or connectionString");
  }
  const auth = options.auth ?? null;
  if (auth && ("token" in auth ? !auth.token : !auth.username || !auth.password)) {
    throw new ConfigurationError("createDashboard: auth needs a non-empty token, or a non-empty username and password");
  }
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (basePath && !basePath.startsWith("/")) throw new ConfigurationError(`createDashboard: basePath must start with "/", got ${JSON.stringify(options.basePath)}`);
  const ownsPool = !options.sql;
  const sql = options.sql ?? postgres(options.connectionString!, { max: 4, onnotice: () => {}, connection: { application_name: "pgconductor-dashboard" } });
  const logger = options.logger ?? silentLogger;
  const observability = new Observability({ sql, logger, ensureInstalled: async () => {} });
  const csrfToken = randomBytes(24).toString("base64url");
  const actions = Boolean(options.actions);
  const streams = new Set<ServerResponse>();
  const context: RouteContext = { sql, actions };

  const handle = async (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    if (basePath && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
      if (next) return next();
      return send(res, 404, "application/json", JSON.stringify({ error: `no such page: ${url.pathname}` }));
    }
    if (basePath && url.pathname === basePath) {
      res.writeHead(302, { location: `${basePath}/${url.search}` }).end();
      return;
    }
    const path = url.pathname.slice(basePath.length).replace(/\/+$/, "") || "/";
    const facts = requestFacts(req, url);
    const verdict = authenticate(auth, facts);
    if (!verdict.ok) {
      if (verdict.challenge) res.setHeader("www-authenticate", verdict.challenge);
      return send(res, verdict.status, "text/plain; charset=utf-8", `${verdict.message}\n`);
    }
    if (verdict.setCookie) res.setHeader("set-cookie", verdict.setCookie);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");

    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/") {
        const original = (req as { originalUrl?: string }).originalUrl;
        if (original && !original.split("?")[0].endsWith("/")) {
          res.writeHead(302, { location: `${original.split("?")[0]}/` }).end();
          return;
        }
        res.setHeader("content-security-policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        return send(res, 200, "text/html; charset=utf-8", pageHtml({ csrfToken, actions }));
      }
      if (path === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", PAGE_SCRIPT);
      if (path === "/app.css") return send(res, 200, "text/css; charset=utf-8", PAGE_STYLE);
      if (path === "/metrics") return send(res, 200, PROMETHEUS_CONTENT_TYPE, await prometheusMetrics(sql));
      if (path === "/api/events") {
        streams.add(res);
        res.once("close", () => streams.delete(res));
        return serveLiveEvents(observability, req, res);
      }
    } else if (req.method === "POST") {
      const allowed = authorizeAction(actions, csrfToken, facts);
      if (!allowed.ok) return send(res, allowed.status, "application/json", JSON.stringify({ error: allowed.message }));
    }
    const body = req.method === "POST" ? await readJson(req) : undefined;
    const result = await apiRoute(context, req.method ?? "GET", path, url.searchParams, body);
    if (result === null) {
      if (next) return next();
      return send(res, 404, "application/json", JSON.stringify({ error: `no such page: ${req.method} ${path}` }));
    }
    res.setHeader("cache-control", "no-store");
    return send(res, result.status, "application/json", JSON.stringify(result.body));
  };

  return {
    handler(req, res, next) {
      handle(req, res, next).catch((error) => {
        const known = error instanceof ConfigurationError || error instanceof BadRequest;
        if (!known) logger.error("dashboard request failed", { error, url: req.url });
        if (res.headersSent) return void res.end();
        send(res, known ? 400 : 500, "application/json", JSON.stringify({ error: known ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}` }));
      });
    },
    async close() {
      for (const res of streams) res.end();
      await observability.close();
      if (ownsPool) await sql.end({ timeout: 5 });
    },
  };
}

class BadRequest extends Error {}

function requestFacts(req: IncomingMessage, url: URL): RequestFacts {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    method: req.method ?? "GET",
    remoteAddress: req.socket?.remoteAddress,
    host: header("host"),
    origin: header("origin"),
    authorization: header("authorization"),
    cookie: header("cookie"),
    queryToken: url.searchParams.get("token"),
    csrfHeader: header("x-csrf-token"),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(res.req?.method === "HEAD" ? undefined : body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  // Express/Fastify may have parsed it already.
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined && typeof parsed === "object") return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new BadRequest("request body over 64 kB");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("the request body must be JSON");
  }
}
