import type { Observable } from "rxjs";
import type { Sql } from "postgres";
import type { Logger } from "../model/logger";
import type { Task } from "../model/task";
import type { ChannelMessage } from "../streams/notifications";
import type { DatabaseClock } from "./db-clock";

/**
 * A background duty of an orchestrator besides its workers (cron scheduling, the replication
 * consumer, maintenance...). Each is its own small module; the orchestrator starts them after its
 * workers and stops them before the workers.
 */
export interface OrchestratorService {
  readonly name: string;
  start(context: ServiceContext): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface ServiceContext {
  sql: Sql;
  logger: Logger;
  orchestratorId: string;
  /** Every task this orchestrator runs. */
  tasks: readonly Task[];
  /** Subscribe to a NOTIFY channel over the orchestrator's shared LISTEN connection. */
  channel(name: string): Observable<ChannelMessage>;
  /** The database's time: compare database times with this, never Date.now() (see db-clock.ts). */
  clock?: DatabaseClock;
  /** Connections that need a session (replication, session locks) use this one's settings: a direct URL when `sql` goes through a pooler. */
  sessionSql?: Sql;
  /** Asks the orchestrator to stop gracefully. */
  requestStop(reason: string): void;
}
