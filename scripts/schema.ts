/**
 * `npm run schema:write`: renders sql/schema.sql from a database built by the migrations, then
 * checks that a database built from the new file has the same catalog.
 * `npm run schema:diff`: prints how sql/schema.sql differs from what the migrations build (exit 1 if it does).
 * Uses DATABASE_URL when set (scratch databases are created and dropped on it), else an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { migrate } from "../src/db/migrator";
import { readSchemaCatalog, type SchemaCatalog } from "../src/db/schema-catalog";
import { diffCatalogs, renderSchema } from "../src/db/schema-snapshot";
import { startLocalPostgres, withDatabase } from "../src/dev/local-postgres";

const SCHEMA_FILE = join(__dirname, "..", "sql", "schema.sql");

async function withScratchDatabase<T>(serverUrl: string, use: (sql: Sql) => Promise<T>): Promise<T> {
  const name = `pgc_schema_${randomBytes(5).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const sql = postgres(withDatabase(serverUrl, name), { max: 1, onnotice: () => {} });
  try {
    return await use(sql);
  } finally {
    await sql.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

const fromMigrations = (url: string) => withScratchDatabase(url, async (sql) => (await migrate(sql), readSchemaCatalog(sql)));
const fromSchemaFile = (url: string): Promise<SchemaCatalog> =>
  withScratchDatabase(url, async (sql) => (await sql.unsafe(readFileSync(SCHEMA_FILE, "utf8")), readSchemaCatalog(sql)));

async function main(command: string | undefined): Promise<number> {
  if (command !== "write" && command !== "diff") {
    console.error("usage: tsx scripts/schema.ts write|diff");
    return 2;
  }
  const server = await startLocalPostgres();
  try {
    const migrated = await fromMigrations(server.url);
    if (command === "write") writeFileSync(SCHEMA_FILE, renderSchema(migrated));
    const difference = diffCatalogs(migrated, await fromSchemaFile(server.url));
    if (difference) {
      console.log(difference);
      return 1;
    }
    console.log(command === "write" ? "sql/schema.sql written; it builds the same catalog as the migrations" : "sql/schema.sql matches the migrations");
    return 0;
  } finally {
    await server.stop();
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
