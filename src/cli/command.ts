/** What every `pgconductor` subcommand looks like, and the little they share. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import postgres, { type Sql } from "postgres";

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
  help: { type: "boolean", short: "h" },
};

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

export function helpText(command: Command): string {
  const lines = [usageLine(command), "", command.summary];
  if (command.help) lines.push("", command.help);
  lines.push("", "  --db-url URL   PostgreSQL connection string (default: $DATABASE_URL)", "  -h, --help     show this help");
  return lines.join("\n");
}

export function databaseUrl(args: ParsedArgs, io: CliIo): string {
  const url = (args.values["db-url"] as string | undefined) ?? io.env.DATABASE_URL;
  if (!url) throw new UsageError("no database: pass --db-url URL or set DATABASE_URL");
  return url;
}

export function connect(url: string): Sql {
  return postgres(url, { max: 2, onnotice: () => {}, connection: { application_name: "pgconductor-cli" } });
}

/** Runs `fn` with a connection that is closed afterwards. */
export async function withDatabase<T>(args: ParsedArgs, io: CliIo, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connect(databaseUrl(args, io));
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
