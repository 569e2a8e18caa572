/**
 * Before a breaking migration: ask every orchestrator built for an older schema to stop (the flag
 * their heartbeat returns, plus a NOTIFY so they act at once), then wait, bounded, until their
 * records are gone. A record silent for `deadAfterMs` belongs to a crashed process and is removed.
 */
import type { Sql } from "postgres";
import { PgConductorError } from "../model/errors";
import { CONTROL_CHANNEL, stopRequestPayload } from "../model/channels";

export interface StopOlderOptions {
  /** Longest wait for older orchestrators to stop (default 60 s); then the migration fails. */
  timeoutMs?: number;
  /** A record not heartbeating for this long is a crashed process (default 60 s). */
  deadAfterMs?: number;
  /** How often to look again while waiting (default 100 ms). */
  checkEveryMs?: number;
}

export async function stopOlderOrchestrators(sql: Sql, version: number, options: StopOlderOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, deadAfterMs = 60_000, checkEveryMs = 100 } = options;
  const [table] = await sql<{ exists: boolean }[]>`select to_regclass('pgconductor.orchestrators') is not null as exists`;
  if (!table.exists) return;
  const flagged = await sql`
    update pgconductor.orchestrators set stop_requested = true where schema_version < ${version} returning id`;
  if (flagged.length === 0) return;
  await sql`select pg_notify(${CONTROL_CHANNEL}, ${stopRequestPayload(version)})`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sql`
      delete from pgconductor.orchestrators
      where schema_version < ${version} and last_heartbeat_at < now() - make_interval(secs => ${deadAfterMs / 1000})`;
    const left = await sql<{ id: string }[]>`select id from pgconductor.orchestrators where schema_version < ${version}`;
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new PgConductorError(
        `Migration ${version} is breaking, and orchestrators of an older schema did not stop within ${timeoutMs} ms: ${left.map((r) => r.id).join(", ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, checkEveryMs));
  }
}
