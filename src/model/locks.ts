/**
 * Every advisory-lock key pgconductor takes. Advisory locks are per database and shared with the
 * application, so the keys sit in one range (7114650xxx) and each is used for one purpose only.
 */

/** pg_advisory_xact_lock while migrating: concurrent installs apply each migration once. */
export const MIGRATION_LOCK = 7_114_650_001;

/** pg_advisory_xact_lock while table triggers, publications and the slot are changed (also taken in sql/004_table_triggers.sql). */
export const TABLE_TRIGGERS_LOCK = 7_114_650_004;

/** Session lock (pg_try_advisory_lock) of the one replication-slot consumer, held while it reads. */
export const REPLICATION_CONSUMER_LOCK = 7_114_650_005;

/**
 * pg_try_advisory_xact_lock of the maintenance run: one orchestrator at a time, the others skip.
 * Distinct from the consumer's session lock (it used to share 7114650005, so the consumer's leader
 * could never run maintenance, and maintenance in flight made a consumer stand down).
 */
export const MAINTENANCE_LOCK = 7_114_650_006;

/**
 * Class of the two-key transaction locks claim_with_limits takes per limited task
 * (`pg_try_advisory_xact_lock(7114650, hashtext(task_key))`, sql/005_execution_control.sql).
 */
export const TASK_LIMIT_LOCK_CLASS = 7_114_650;

/** pg_try_advisory_xact_lock of a stale-statistics ANALYZE (sql/023_stale_stats.sql): one at a time, the others skip. */
export const STATS_REFRESH_LOCK = 7_114_650_007;
