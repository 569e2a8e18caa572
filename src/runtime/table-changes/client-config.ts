/**
 * pg-logical-replication speaks through `pg`, so its connection settings are derived from the
 * postgres.js instance the Conductor already has (`sql.options`: host and port lists, user, pass,
 * database, ssl, path for a unix socket).
 */
import type { ClientConfig } from "pg";
import type { Sql } from "postgres";

interface PostgresJsOptions {
  host?: string[];
  port?: number[];
  user?: string;
  pass?: string | null | (() => string | Promise<string>);
  database?: string;
  ssl?: unknown;
  path?: string | false;
  connect_timeout?: number;
}

export function clientConfigFrom(sql: Sql, applicationName = "pgconductor-changes"): ClientConfig {
  const options = sql.options as unknown as PostgresJsOptions;
  const config: ClientConfig = {
    user: options.user,
    database: options.database,
    application_name: applicationName,
    connectionTimeoutMillis: (options.connect_timeout ?? 30) * 1000,
    keepAlive: true,
  };
  const pass = options.pass;
  if (typeof pass === "string") config.password = pass;
  else if (typeof pass === "function") config.password = async () => String(await pass());
  if (options.path) {
    // postgres.js takes the socket file itself; pg takes its directory and the port in its name.
    const match = /^(.*)\/\.s\.PGSQL\.(\d+)$/.exec(options.path);
    config.host = match ? match[1] : options.path;
    if (match) config.port = Number(match[2]);
  } else {
    config.host = options.host?.[0];
    config.port = options.port?.[0];
  }
  config.ssl = sslFrom(options.ssl);
  return config;
}

function sslFrom(ssl: unknown): ClientConfig["ssl"] {
  if (!ssl || ssl === "disable") return false;
  if (ssl === "require" || ssl === "prefer" || ssl === "allow") return { rejectUnauthorized: false };
  if (ssl === true || ssl === "verify-full") return true;
  return ssl as ClientConfig["ssl"];
}
