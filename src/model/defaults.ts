/**
 * Every default a user can leave out, in one place. The SQL keeps its own copies where a column or
 * function needs one; they must stay equal to these:
 * - DEFAULT_MAX_ATTEMPTS: `tasks.max_attempts default 3` and `coalesce(t.max_attempts, 3)` in fail()
 *   (sql/001_core.sql);
 * - DEFAULT_REMOVE_ON_COMPLETE_DAYS / DEFAULT_REMOVE_ON_FAIL_DAYS: the `remove_on_complete` /
 *   `remove_on_fail` column defaults and run_maintenance's fallbacks (sql/005_execution_control.sql).
 */

export const DEFAULT_QUEUE = "default";
/** Attempts before an execution is recorded as failed. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_PRIORITY = 0;
/** Time zone of cron triggers and schedules. */
export const DEFAULT_TIME_ZONE = "UTC";

/** Retention of finished executions. */
export const DEFAULT_REMOVE_ON_COMPLETE_DAYS = 7;
export const DEFAULT_REMOVE_ON_FAIL_DAYS = 30;

/** Worker config. */
export const DEFAULT_WORKER_CONCURRENCY = 10;
export const DEFAULT_POLL_INTERVAL_MS = 10_000;
export const DEFAULT_FLUSH_INTERVAL_MS = 0;
/** Most executions a worker holds (running and claimed ahead), and takes in one claim, unless concurrency is higher. */
export const DEFAULT_FETCH_BATCH_SIZE = 500;
/** A worker claims ahead what its slots finish in this long at its handlers' recent duration (0: only its free slots). */
export const DEFAULT_CLAIM_AHEAD_MS = 100;

/** Orchestrator lease. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
export const DEFAULT_LEASE_MS = 30_000;
/** stop(): how long running handlers may take to reach a step before they are released; under the 30 s a process manager usually grants after SIGTERM. */
export const DEFAULT_STOP_TIMEOUT_MS = 25_000;
/** Health: a self-addressed NOTIFY must arrive, and the database must answer, within this. */
export const DEFAULT_LISTEN_PROBE_TIMEOUT_MS = 2_000;
/** The sweep interval while push does not deliver (behind a transaction pooler, a lost listener). */
export const DEFAULT_DEGRADED_POLL_INTERVAL_MS = 1_000;

/**
 * The LISTEN connection pings itself (a NOTIFY through the pool) this often, and reconnects when the
 * ping is not delivered within the timeout: a half-open connection is otherwise silent forever.
 */
export const DEFAULT_LISTENER_PING_INTERVAL_MS = 15_000;
export const DEFAULT_LISTENER_PING_TIMEOUT_MS = 5_000;
/** Delay before the LISTEN connection's reconnects: doubling from the first, capped. */
export const LISTENER_RECONNECT_FIRST_MS = 100;
export const LISTENER_RECONNECT_MAX_MS = 5_000;

/** observe({ history: true }): executions created in the last hour, at most 1000. */
export const DEFAULT_HISTORY_WINDOW_MS = 60 * 60 * 1000;
export const DEFAULT_HISTORY_LIMIT = 1000;

/**
 * A claim that failed (the database away, a connection cut) is tried again after this long: the
 * wake-up that started it is spent, and the sweep may be an hour away.
 */
export const CLAIM_RETRY_MS = 1_000;
/**
 * A claim not answered in this long is given up (and tried again after CLAIM_RETRY_MS): a query on a
 * connection cut at the wrong moment can stay unanswered for good, and a claim that never returns
 * would stop the worker claiming. Rows such a claim locked are not held, so the heartbeat releases
 * them after the lease.
 */
export const CLAIM_ANSWER_TIMEOUT_MS = 10_000;
