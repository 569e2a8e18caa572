/**
 * How the replication consumer is doing, in one named mode, and what its failures mean. A failure
 * that repeats (a missing publication, a refused connection) is logged once at error level with its
 * cause and fix and then only counted, instead of a warning every reconnect; the mode is what the
 * orchestrator's health reports.
 */
import type { Logger } from "../../model/logger";

export type ConsumerMode =
  /** Not started, or stopped. */
  | "idle"
  /** Another orchestrator holds the consumer lock (or there is nothing to read). */
  | "standby"
  /** Reading the slot. */
  | "consuming"
  /** The last attempt failed; retrying. */
  | "failing";

export interface ConsumerFailure {
  message: string;
  cause: string;
  fix: string;
  /** How many times in a row it happened. */
  count: number;
  since: Date;
}

export interface ConsumerHealth {
  mode: ConsumerMode;
  failure: ConsumerFailure | null;
}

export interface Explanation {
  cause: string;
  fix: string;
}

const codeOf = (error: unknown) => (error as { code?: unknown })?.code;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Cause and fix of a failure of the consumer's connections, by SQLSTATE or socket error. */
export function explainConsumerError(error: unknown, slot: string): Explanation {
  const code = codeOf(error);
  const message = messageOf(error);
  if (code === "42704" && /publication/.test(message)) {
    return {
      cause: `the replication stream names a publication the slot "${slot}" cannot see (${message})`,
      fix: "restart an orchestrator that runs a task with a table trigger: it recreates the publications",
    };
  }
  if (code === "55006") {
    return { cause: `another process is reading the replication slot "${slot}"`, fix: `find it in pg_replication_slots (active_pid) and stop it; the consumer retries` };
  }
  if (code === "53300" || /max_wal_senders|replication slots/.test(message)) {
    return { cause: `the server has no free replication connection or slot (${message})`, fix: "raise max_wal_senders / max_replication_slots (a restart), or end unused walsenders" };
  }
  if (code === "42501") {
    return { cause: `the role may not read replication slots (${message})`, fix: "ALTER ROLE ... WITH REPLICATION (on a managed service, grant its replication role)" };
  }
  if (code === "28000" || code === "28P01") {
    return { cause: `the server refused the replication connection (${message})`, fix: "allow the role to connect with a replication connection in pg_hba.conf, and check its password" };
  }
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return { cause: `the database is unreachable (${message})`, fix: "check that PostgreSQL is running and reachable; the consumer reconnects by itself" };
  }
  return { cause: message, fix: "see the PostgreSQL server log for this error; the consumer keeps retrying" };
}

/** The mode plus the failure streak; logs the first failure of a streak and the recovery. */
export class ConsumerHealthTracker {
  private mode: ConsumerMode = "idle";
  private failure: ConsumerFailure | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly slot: () => string,
  ) {}

  get health(): ConsumerHealth {
    return { mode: this.mode, failure: this.failure && { ...this.failure } };
  }

  /** The pause before the next attempt: the base delay, doubled per repeat, at most `maxMs`. */
  retryDelay(baseMs: number, maxMs = 5_000): number {
    const repeats = Math.max(0, (this.failure?.count ?? 1) - 1);
    return Math.min(maxMs, baseMs * 2 ** Math.min(repeats, 16));
  }

  failed(error: unknown, explanation: Explanation = explainConsumerError(error, this.slot())): void {
    const message = messageOf(error);
    this.mode = "failing";
    if (this.failure && this.failure.message === message) {
      this.failure.count += 1;
      return;
    }
    this.failure = { message, ...explanation, count: 1, since: new Date() };
    this.logger.error(`table changes: ${explanation.cause}. Fix: ${explanation.fix}`, { slot: this.slot(), error });
  }

  /** Streaming works (a change was written or the server's keepalive arrived). */
  consuming(): void {
    this.recovered();
    this.mode = "consuming";
  }

  /** Another orchestrator consumes, or there is nothing to consume: also a success. */
  standby(): void {
    this.recovered();
    this.mode = "standby";
  }

  private recovered(): void {
    if (!this.failure) return;
    this.logger.info("table changes: the replication consumer works again", { slot: this.slot(), failures: this.failure.count });
    this.failure = null;
  }

  stopped(): void {
    this.mode = "idle";
  }
}
