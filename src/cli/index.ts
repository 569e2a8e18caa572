/**
 * The `pgconductor` command: `pgconductor <command> [arguments] [--db-url URL]`. One file per
 * command; this one picks the command, parses its arguments (node's util.parseArgs) and maps
 * outcomes to exit codes: 0 done, 1 failed, 2 bad arguments (with the usage line).
 */
import { cancelCommand } from "./cancel";
import { databaseUrl, helpText, parseCommandArgs, usageLine, UsageError, type CliIo, type Command, type ParsedArgs } from "./command";
import { connectionProblem, redactUrl } from "../model/connection-url";
import { packageVersion } from "./version";
import { dashboardCommand } from "./dashboard-command";
import { genTypesCommand } from "./gen-types";
import { listCommand } from "./list";
import { migrateCommand } from "./migrate";
import { maintenanceCommand } from "./maintenance";
import { retryCommand } from "./retry";
import { showCommand } from "./show";
import { statusCommand } from "./status";
import { pauseCommands } from "./pause";
import { watchCommand } from "./watch";

export const COMMANDS: readonly Command[] = [
  migrateCommand, statusCommand, watchCommand, listCommand, showCommand, retryCommand, cancelCommand, ...pauseCommands, dashboardCommand, maintenanceCommand, genTypesCommand,
];

const TOP_USAGE = "usage: pgconductor <command> [arguments] [--db-url URL]";

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    TOP_USAGE,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command takes --db-url URL (default: $DATABASE_URL), --connect-timeout S (default 10) and --help.",
    "pgconductor --version prints the version.",
  ].join("\n");
}

/** Picks the command from the first word(s): `gen types` is two. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  for (const command of COMMANDS) {
    const words = command.name.split(" ");
    if (words.every((word, i) => argv[i] === word)) return { command, rest: argv.slice(words.length) };
  }
  return null;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    (argv.length === 0 ? io.err : io.out)(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "version") {
    io.out(packageVersion());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    // `pgconductor gen` / `gen --help`: the first word of a longer command shows what follows it.
    const group = COMMANDS.filter((c) => c.name.includes(" ") && c.name.split(" ")[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === "--help" || argv[1] === "-h")) {
      (argv.length === 1 ? io.err : io.out)(group.map(helpText).join("\n\n"));
      return argv.length === 1 ? 2 : 0;
    }
    io.err(`pgconductor: unknown command "${argv.slice(0, group.length > 0 ? 2 : 1).join(" ")}"\n${TOP_USAGE}\n(run \`pgconductor --help\` for the commands)`);
    return 2;
  }
  const { command, rest } = found;
  let args: ParsedArgs | null = null;
  try {
    args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.out(helpText(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`pgconductor ${command.name}: ${error.message}\n${usageLine(command)}`);
      return 2;
    }
    const problem = connectionProblem(error);
    const url = problem && args ? urlOf(args, io) : null;
    io.err(`pgconductor ${command.name}: ${url ? `cannot connect to ${redactUrl(url)}: ${problem}` : ((error as Error)?.message ?? String(error))}`);
    return 1;
  }
}

function urlOf(args: ParsedArgs, io: CliIo): string | null {
  try {
    return databaseUrl(args, io);
  } catch {
    return null;
  }
}

/** Entry point of bin/pgconductor.js. */
export function run(argv: string[] = process.argv.slice(2)): void {
  // Long-running commands (watch, dashboard) stop on the first signal; a command that does not
  // finish within a few seconds of it is ended, so `timeout` or a supervisor can always stop us.
  const interrupted = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      resolve();
      setTimeout(() => process.exit(signal === "SIGINT" ? 130 : 143), 5_000).unref();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  const io: CliIo = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    interrupted,
  };
  main(argv, io).then(
    (code) => {
      process.exitCode = code;
      // Signal handlers and pools must not keep a finished command alive.
      setImmediate(() => process.exit(code));
    },
    (error) => {
      process.stderr.write(`pgconductor: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
