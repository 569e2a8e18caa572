import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createDashboard, type DashboardAuth } from "./dashboard/handler";
import { isLoopbackHost } from "./dashboard/security";
import { assertInstalled, connectChecked, databaseUrl, NOT_INSTALLED, UsageError, type Command, type ParsedArgs, type CliIo } from "./command";

export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "Serve the live dashboard (queues, executions, failures with retry/cancel, schedules, orchestrators) and /metrics.",
  usage: "[--port N] [--host H] [--actions] [--token TOKEN | --basic-auth USER:PASSWORD]",
  help: [
    "  --port N       port to listen on (default 4000; 0 picks a free one)",
    "  --host H       address to bind (default 127.0.0.1); any other than loopback needs --token or --basic-auth",
    "  --actions      allow retry and cancel from the page (default: read-only)",
    "  --token TOKEN  require this token (or set PGCONDUCTOR_DASHBOARD_TOKEN): open the page once with ?token=TOKEN",
    "  --basic-auth USER:PASSWORD  require HTTP basic authentication (or set PGCONDUCTOR_DASHBOARD_BASIC_AUTH)",
    "",
    "GET /metrics serves Prometheus text. Ctrl-C stops the server.",
  ].join("\n"),
  options: {
    port: { type: "string" },
    host: { type: "string" },
    actions: { type: "boolean" },
    token: { type: "string" },
    "basic-auth": { type: "string" },
  },
  positionals: [0, 0],
  async run(args, io) {
    const { port, host, auth } = serverOptions(args, io);
    const sql = await connectChecked(databaseUrl(args, io), args);
    try {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      const dashboard = createDashboard({ sql, actions: Boolean(args.values.actions), auth: auth ?? undefined });
      const server = createServer((req, res) => dashboard.handler(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      io.out(`dashboard at http://${shown}:${address.port}/ (${args.values.actions ? "actions enabled" : "read-only"}${auth ? ", authentication required" : ""}; Ctrl-C to stop)`);
      await io.interrupted;
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return 0;
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
};

function serverOptions(args: ParsedArgs, io: CliIo): { port: number; host: string; auth: DashboardAuth | null } {
  const portText = (args.values.port as string | undefined) ?? "4000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${portText}"`);
  const host = (args.values.host as string | undefined) ?? "127.0.0.1";
  const token = (args.values.token as string | undefined) ?? io.env.PGCONDUCTOR_DASHBOARD_TOKEN;
  const basic = (args.values["basic-auth"] as string | undefined) ?? io.env.PGCONDUCTOR_DASHBOARD_BASIC_AUTH;
  if (token !== undefined && basic !== undefined) throw new UsageError("pass --token or --basic-auth, not both");
  let auth: DashboardAuth | null = null;
  if (token !== undefined) {
    if (token.length < 16) throw new UsageError("--token must be at least 16 characters");
    auth = { token };
  } else if (basic !== undefined) {
    const colon = basic.indexOf(":");
    if (colon <= 0 || colon === basic.length - 1) throw new UsageError("--basic-auth must be USER:PASSWORD, both non-empty");
    auth = { username: basic.slice(0, colon), password: basic.slice(colon + 1) };
  }
  if (!auth && !isLoopbackHost(host)) {
    throw new UsageError(`--host ${host} is reachable beyond this machine: pass --token or --basic-auth (without them the dashboard binds to loopback only)`);
  }
  return { port, host, auth };
}
