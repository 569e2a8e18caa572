/**
 * Opening a postgres.js pool from a connection string. A bad string is an error naming it (password
 * elided), never a bare `Invalid URL`; our statements' NOTICEs are not printed.
 */
import postgres, { type Options, type Sql } from "postgres";
import { ConfigurationError } from "../model/errors";
import { redactUrl } from "../model/connection-url";

export function openPool(connectionString: string, options: Options<{}> = {}): Sql {
  const shown = redactUrl(connectionString);
  const protocol = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connectionString)?.[1]?.toLowerCase();
  if (protocol !== "postgres" && protocol !== "postgresql") {
    throw new ConfigurationError(`invalid connection string "${shown}": it must start with postgres:// or postgresql://`);
  }
  try {
    return postgres(connectionString, { onnotice: () => {}, ...options });
  } catch (error) {
    throw new ConfigurationError(`invalid connection string "${shown}": ${(error as Error)?.message ?? String(error)}`);
  }
}
