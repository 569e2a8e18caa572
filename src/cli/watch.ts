import { silentLogger } from "../model/logger";
import { Observability } from "../api/observability";
import type { ExecutionEvent, ExecutionEventKind, PauseEvent } from "../model/execution-event";
import { assertInstalled, connectChecked, databaseUrl, NOT_INSTALLED, type Command } from "./command";

export const watchCommand: Command = {
  name: "watch",
  summary: "A live tail of execution events (created, started, completed, failed, retrying, released, cancelled) and of pauses and resumes, until Ctrl-C.",
  usage: "[--task NAME]... [--queue NAME]... [--history]",
  help: [
    "  --task NAME    only executions of this task (repeatable)",
    "  --queue NAME   only executions in this queue (repeatable)",
    "  --history      first replay executions created in the last hour, from the tables",
  ].join("\n"),
  options: { task: { type: "string", multiple: true }, queue: { type: "string", multiple: true }, history: { type: "boolean" } },
  positionals: [0, 0],
  async run(args, io) {
    const sql = await connectChecked(databaseUrl(args, io), args);
    try {
      if (!(await assertInstalled(sql))) return io.err(NOT_INSTALLED), 1;
      const observability = new Observability({ sql, logger: silentLogger, ensureInstalled: async () => {} });
      let failure: unknown = null;
      const stopped = new Promise<void>((resolve) => {
        const subscription = observability
          .observe({
            task: args.values.task as string[] | undefined,
            queue: args.values.queue as string[] | undefined,
            history: Boolean(args.values.history),
            pauses: true,
          })
          .subscribe({
            next: (event) => io.out(formatEvent(event, io.color)),
            error: (error) => {
              failure = error;
              resolve();
            },
          });
        void io.interrupted.then(() => {
          subscription.unsubscribe();
          resolve();
        });
      });
      io.err("watching executions (Ctrl-C to stop)");
      await stopped;
      await observability.close();
      if (failure) throw failure;
      return 0;
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
};

const COLORS: Record<ExecutionEventKind | PauseEvent["kind"], string> = {
  created: "\x1b[2m",
  started: "\x1b[36m",
  completed: "\x1b[32m",
  failed: "\x1b[31m",
  retrying: "\x1b[33m",
  released: "\x1b[35m",
  cancelled: "\x1b[35m",
  paused: "\x1b[33m",
  resumed: "\x1b[36m",
};

/**
 * `time  kind  task  queue  id  attempt  detail`, one line per event; a pause or resume:
 * `time  paused  queue NAME` (or `task NAME`).
 */
export function formatEvent(event: ExecutionEvent | PauseEvent, color: boolean): string {
  const kind = event.kind.padEnd(9);
  const shownKind = color ? `${COLORS[event.kind]}${kind}\x1b[0m` : kind;
  if (!("executionId" in event)) {
    const target = event.task !== undefined ? `task ${event.task}` : `queue ${event.queue}`;
    return [event.at.toISOString(), shownKind, target].join("  ");
  }
  const detail =
    event.kind === "completed" ? truncate(JSON.stringify(event.result ?? null)) : event.error !== undefined ? truncate(JSON.stringify(event.error)) : "";
  const parts = [
    event.at.toISOString(),
    shownKind,
    event.task,
    event.queue,
    event.executionId,
    `#${event.attempt}`,
    detail,
  ];
  return parts.join("  ").trimEnd();
}

function truncate(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
