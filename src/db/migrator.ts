import type { Sql } from "postgres";
import { loadMigrations, type Migration } from "./sql-files";
import { stopOlderOrchestrators, type StopOlderOptions } from "./stop-older-orchestrators";

import { MIGRATION_LOCK } from "../model/locks";

export interface MigrationOutcome {
  applied: number[];
  version: number;
}

/**
 * Brings the `pgconductor` schema up to the newest migration. Runs in one transaction under an
 * advisory lock, so any number of concurrent callers install it exactly once. When a pending
 * migration is breaking, orchestrators of an older schema are asked to stop first and waited for
 * (outside the transaction: their graceful stop writes to the rows it would otherwise lock).
 */
export async function migrate(sql: Sql, migrations: Migration[] = loadMigrations(), options: { stopOlder?: StopOlderOptions } = {}): Promise<MigrationOutcome> {
  const latest = migrations.at(-1)?.version ?? 0;
  const applied = await appliedVersions(sql);
  // Every known migration is there (a newer schema from a newer release is fine too).
  if (migrations.every((migration) => applied.has(migration.version))) return { applied: [], version: latest };
  const installed = Math.max(0, ...applied);
  const breaking = migrations.filter((migration) => migration.breaking && migration.version > installed);
  if (installed > 0 && breaking.length > 0) {
    await stopOlderOrchestrators(sql, Math.max(...breaking.map((migration) => migration.version)), options.stopOlder);
  }

  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create schema if not exists pgconductor`;
    await tx`
      create table if not exists pgconductor.migrations (
        version integer primary key,
        name text not null,
        breaking boolean not null default false,
        applied_at timestamptz not null default now()
      )`;
    const rows = await tx<{ version: number }[]>`select version from pgconductor.migrations`;
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await tx.unsafe(migration.text);
      await tx`insert into pgconductor.migrations (version, name, breaking)
               values (${migration.version}, ${migration.name}, ${migration.breaking})`;
      applied.push(migration.version);
    }
    return { applied, version: latest };
  }) as Promise<MigrationOutcome>;
}

async function appliedVersions(sql: Sql): Promise<Set<number>> {
  const [row] = await sql<{ installed: boolean }[]>`select to_regclass('pgconductor.migrations') is not null as installed`;
  if (!row.installed) return new Set();
  const rows = await sql<{ version: number }[]>`select version from pgconductor.migrations`;
  return new Set(rows.map((r) => r.version));
}
