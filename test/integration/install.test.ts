import postgres from "postgres";
import { Conductor, TaskSchemas, defineTask, ConfigurationError } from "pgconductor-js";
import { silentLogger } from "../../src/model/logger";
import { loadMigrations } from "../../src/db/sql-files";
import { createTestDatabase, useTestDatabase } from "../support/database";

const tasks = TaskSchemas.fromSchema([defineTask({ name: "noop" })]);
const db = useTestDatabase();

test("ten concurrent ensureInstalled calls from separate pools on an empty database install the schema once", async () => {
  const pools = Array.from({ length: 10 }, () => postgres(db.url, { max: 1, onnotice: () => {} }));
  try {
    const conductors = pools.map((sql) => Conductor.create({ sql, tasks, logger: silentLogger }));
    await Promise.all(conductors.map((conductor) => conductor.ensureInstalled()));
    const applied = await db.sql<{ version: number }[]>`select version from pgconductor.migrations order by version`;
    expect(applied.map((row) => row.version)).toEqual(loadMigrations().map((migration) => migration.version));
    await Promise.all(conductors.map((conductor) => conductor.ensureInstalled()));
    const again = await db.sql`select count(*)::int as n from pgconductor.migrations`;
    expect(again[0].n).toBe(applied.length);
  } finally {
    await Promise.all(pools.map((sql) => sql.end()));
  }
});

test("invoke on a fresh database installs the schema first (no orchestrator needed)", async () => {
  const fresh = await createTestDatabase();
  try {
    const conductor = Conductor.create({ sql: fresh.sql, tasks, logger: silentLogger });
    const id = await conductor.invoke({ name: "noop" }, undefined);
    const rows = await fresh.sql`select status from pgconductor.executions where id = ${id}`;
    expect(rows[0].status).toBe("pending");
  } finally {
    await fresh.drop();
  }
});

test("Conductor.create needs exactly one of sql and connectionString", async () => {
  expect(() => Conductor.create({ tasks } as never)).toThrow(ConfigurationError);
  expect(() => Conductor.create({ tasks, sql: db.sql, connectionString: db.url })).toThrow(/either `sql` or `connectionString`, not both/);
  const owned = Conductor.create({ tasks, connectionString: db.url, logger: silentLogger });
  await owned.ensureInstalled();
  await owned.close();
});
