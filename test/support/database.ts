/**
 * Each test file gets a database of its own on the shared server, so files can run in parallel
 * without seeing each other's executions.
 */
import postgres, { type Sql } from "postgres";
import { randomBytes } from "node:crypto";
import { withDatabase } from "../../src/dev/local-postgres";

export interface TestDatabase {
  url: string;
  sql: Sql;
  /** Another connection pool on the database, as a separate process would have; ended by drop(). */
  pool(max?: number): Sql;
  /** Ends every connection this helper opened and drops the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.PGCONDUCTOR_TEST_SERVER_URL;
  if (!serverUrl) throw new Error("PGCONDUCTOR_TEST_SERVER_URL is not set: run the tests through jest (globalSetup starts PostgreSQL)");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(serverUrl, name);
  const sql = postgres(url, { onnotice: () => {} });
  const extraPools: Sql[] = [];
  return {
    url,
    sql,
    pool(max = 4) {
      const pool = postgres(url, { max, onnotice: () => {} });
      extraPools.push(pool);
      return pool;
    },
    async drop() {
      await Promise.all(extraPools.map((pool) => pool.end({ timeout: 5 })));
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * The usual setup of a test file: a database of its own, created before the first test and dropped
 * after the last. The returned object is filled in by `beforeAll`, so use it inside tests and hooks.
 */
export function useTestDatabase(): TestDatabase {
  const database = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(database, await createTestDatabase());
  });
  afterAll(async () => {
    await database.drop?.();
  });
  return database;
}
