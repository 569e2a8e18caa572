/**
 * sql/schema.sql must describe exactly what the migrations build: one database from the migrations,
 * one from schema.sql, their catalogs compared (tables, columns with types and defaults,
 * constraints, indexes, functions, triggers). After a new migration: `npm run schema:write`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { migrate } from "../../src/db/migrator";
import { readSchemaCatalog } from "../../src/db/schema-catalog";
import { diffCatalogs } from "../../src/db/schema-snapshot";
import { useTestDatabase } from "../support/database";

const migrated = useTestDatabase();
const snapshot = useTestDatabase();
const schemaSql = readFileSync(join(__dirname, "..", "..", "sql", "schema.sql"), "utf8");

beforeAll(async () => {
  await migrate(migrated.sql);
  await snapshot.sql.begin((tx) => tx.unsafe(schemaSql));
});

test("sql/schema.sql builds the catalog the migrations build (else run `npm run schema:write`)", async () => {
  const difference = diffCatalogs(await readSchemaCatalog(migrated.sql), await readSchemaCatalog(snapshot.sql));
  if (difference) throw new Error(`sql/schema.sql is out of date; run \`npm run schema:write\`:\n\n${difference}`);
});

test("the comparison sees a column, a default and a function body that differ", async () => {
  const expected = await readSchemaCatalog(migrated.sql);
  await snapshot.sql.begin(async (tx) => {
    await tx`alter table pgconductor.steps add column extra integer`;
    await tx`alter table pgconductor.tasks alter column max_attempts set default 4`;
    await tx.unsafe(`create or replace function pgconductor.retry_delay(p_attempts integer) returns interval language sql as $$ select interval '1 second' $$`);
    const difference = diffCatalogs(expected, await readSchemaCatalog(tx));
    expect(difference).toContain("column steps.extra: only in schema.sql");
    expect(difference).toMatch(/column tasks\.max_attempts: differs[\s\S]*- #3 integer not null default 3[\s\S]*\+ #3 integer not null default 4/);
    expect(difference).toMatch(/function pgconductor\.retry_delay\(integer\): differs[\s\S]*\+ .*interval '1 second'/);
    // Leave the snapshot database as it was for the other test.
    throw new Rollback();
  }).catch((error) => {
    if (!(error instanceof Rollback)) throw error;
  });
});

class Rollback extends Error {}
