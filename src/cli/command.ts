/** What every `pgconductor` subcommand looks like, and the little they share. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Sql } from "postgres";
import { openPool } from "../db/connect";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Colour output (stdout is a terminal and NO_COLOR is not set). */
  color: boolean;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); used by long-running commands. */
  interrupted: Promise<void>;
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `pgconductor <name> ...` argument synopsis. */
  usage: string;
  /** Extra help text below the usage line. */
  help?: string;
  options: Options;
  /** Positional arguments it takes: [min, max]. */
  positionals: [number, number];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Bad arguments: print the usage line and exit 2. */
export class UsageError extends Error {}

export const COMMON_OPTIONS: Options = {
  "db-url": { type: "string" },
  "connect-timeout": { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** Seconds to wait for the server to answer a new connection before giving up with an error. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

const COMMON_HELP = [
  "  --db-url URL   PostgreSQL connection string (default: $DATABASE_URL)",
  `  --connect-timeout S  give up connecting after S seconds (default ${DEFAULT_CONNECT_TIMEOUT_SECONDS})`,
  "  -h, --help     show this help",
];

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) return parsed;
  const [min, max] = command.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing argument (expected ${command.usage})`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  return parsed;
}

export function usageLine(command: Command): string {
  return `usage: pgconductor ${command.name}${command.usage ? ` ${command.usage}` : ""} [--db-url URL]`;
}

const GENERIC_FLAG_HELP: Record<string, string> = { json: "print JSON instead of text" };

/**
 * Usage, summary, the command's own help, then every flag: those its help text does not describe
 * get a line of their own (with the placeholder its usage line gives), so none goes unlisted.
 */
export function helpText(command: Command): string {
  const lines = [usageLine(command), "", command.summary];
  if (command.help) lines.push("", command.help);
  const described = (flag: string) => new RegExp(`^\\s+(-\\w, )?--${flag}\\b`, "m").test(command.help ?? "");
  const undescribed = Object.entries(command.options).filter(([flag]) => !described(flag));
  if (undescribed.length > 0) {
    lines.push("");
    for (const [flag, option] of undescribed) {
      const placeholder = option.type === "string" ? ` ${new RegExp(`--${flag} ([A-Z][A-Z:_-]*)`).exec(command.usage)?.[1] ?? "VALUE"}` : "";
      const line = `  --${flag}${placeholder}`;
      const about = [GENERIC_FLAG_HELP[flag], option.multiple ? "(repeatable)" : undefined].filter(Boolean).join(" ");
      lines.push(about ? `${line.padEnd(16)} ${about}` : line);
    }
  }
  lines.push("", ...COMMON_HELP);
  return lines.join("\n");
}

export function databaseUrl(args: ParsedArgs, io: CliIo): string {
  const url = (args.values["db-url"] as string | undefined) ?? io.env.DATABASE_URL;
  if (!url) throw new UsageError("no database: pass --db-url URL or set DATABASE_URL");
  return url;
}

/** --connect-timeout in seconds (a positive number), or the default. */
export function connectTimeoutSeconds(args?: ParsedArgs): number {
  const given = args?.values["connect-timeout"] as string | undefined;
  if (given === undefined) return DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const seconds = Number(given);
  if (!/^\d+(\.\d+)?$/.test(given) || !(seconds > 0)) throw new UsageError(`--connect-timeout must be a positive number of seconds, got "${given}"`);
  return seconds;
}

/** A small pool for one command; a bad connection string is an error naming it (password elided). */
export function connect(url: string, args?: ParsedArgs): Sql {
  return openPool(url, { max: 2, connect_timeout: connectTimeoutSeconds(args), connection: { application_name: "pgconductor-cli" } });
}

/**
 * connect, then one round trip within the connect timeout. postgres.js bounds the wait only once a
 * socket is open: towards a host that never answers (packets dropped) it retries forever.
 */
export async function connectChecked(url: string, args?: ParsedArgs): Promise<Sql> {
  const sql = connect(url, args);
  const seconds = connectTimeoutSeconds(args);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no connection within ${seconds} s`), { code: "CONNECT_TIMEOUT" })), seconds * 1000 + 500);
  });
  try {
    await Promise.race([sql`select 1`, deadline]);
    return sql;
  } catch (error) {
    void sql.end({ timeout: 0 }).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` with a connection that is closed afterwards. */
export async function withDatabase<T>(args: ParsedArgs, io: CliIo, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = await connectChecked(databaseUrl(args, io), args);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Every command but `migrate` needs the schema; say so instead of failing on a missing table. */
export async function assertInstalled(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ installed: boolean }[]>`select to_regclass('pgconductor.executions') is not null as installed`;
  return row.installed;
}

export const NOT_INSTALLED = "pgconductor is not installed in this database (run `pgconductor migrate`)";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function executionIdArgument(value: string): string {
  if (!UUID.test(value)) throw new UsageError(`"${value}" is not an execution id (a UUID)`);
  return value;
}
