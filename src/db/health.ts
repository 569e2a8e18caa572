/** What an orchestrator reports of its health on its record, and the replication consumer's lag. */
import type { Db } from "./db";

export async function writeHealth(db: Db, orchestratorId: string, health: object): Promise<void> {
  await db`update pgconductor.orchestrators set health = ${JSON.stringify(health)}::text::jsonb where id = ${orchestratorId}::uuid`;
}

/** Bytes of WAL the table-change slot of this database has not confirmed (null without a slot). */
export async function readConsumerLag(db: Db): Promise<number | null> {
  const [row] = await db<{ lag: number | null }[]>`
    select max(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn)))::float8 as lag
    from pg_replication_slots
    where slot_name like 'pgconductor%' and database = current_database()`;
  return row?.lag ?? null;
}
