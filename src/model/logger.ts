/** The logging surface; any object with these four methods can be passed as `logger`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = "debug" | "info" | "warn" | "error";
const LEVELS: Level[] = ["debug", "info", "warn", "error"];

/**
 * Writes one line per message: time, level, then the tags (task, execution id, queue...).
 * `PGCONDUCTOR_LOG_LEVEL` picks the lowest level written (default `info`).
 */
export function createConsoleLogger(minimum: Level = (process.env.PGCONDUCTOR_LOG_LEVEL as Level) || "info"): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(minimum));
  const write = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < threshold) return;
    const tags = fields ? Object.entries(fields).map(([key, value]) => `${key}=${formatValue(value)}`).join(" ") : "";
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${tags ? ` ${tags}` : ""}`;
    (level === "error" || level === "warn" ? console.error : console.log)(line);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** A logger whose every line also carries `tags` (used for ctx.logger: task, execution id, queue). */
export function taggedLogger(base: Logger, tags: Record<string, unknown>): Logger {
  const withTags = (fields?: Record<string, unknown>) => ({ ...tags, ...fields });
  return {
    debug: (message, fields) => base.debug(message, withTags(fields)),
    info: (message, fields) => base.info(message, withTags(fields)),
    warn: (message, fields) => base.warn(message, withTags(fields)),
    error: (message, fields) => base.error(message, withTags(fields)),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}
