/**
 * The `pgconductor` command: `pgconductor <command> [arguments] [--db-url URL]`. One file per
 * command; this one picks the command, parses its arguments (node's util.parseArgs) and maps
 * outcomes to exit codes: 0 done, 1 failed, 2 bad arguments (with the usage line).
 */
import { cancelCommand } from "./cancel";
import { helpText, parseCommandArgs, usageLine, UsageError, type CliIo, type Command } from "./command";
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
    "Every command takes --db-url URL (default: $DATABASE_URL) and --help.",
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
  const found = findCommand(argv);
  if (!found) {
    io.err(`pgconductor: unknown command "${argv.slice(0, argv[0] === "gen" ? 2 : 1).join(" ")}"\n${TOP_USAGE}\n(run \`pgconductor --help\` for the commands)`);
    return 2;
  }
  const { command, rest } = found;
  try {
    const args = parseCommandArgs(command, rest);
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
    io.err(`pgconductor ${command.name}: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

/** Entry point of bin/pgconductor.js. */
export function run(argv: string[] = process.argv.slice(2)): void {
  const interrupted = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
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
