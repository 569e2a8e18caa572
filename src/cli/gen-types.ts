import { renderDatabaseTypes } from "./render-types";
import { readSchemaModel } from "./schema-model";
import { UsageError, withDatabase, type Command } from "./command";

export const genTypesCommand: Command = {
  name: "gen types",
  summary: "Print a TypeScript `Database` type (Supabase's shape) for the tables, views, functions and enums of some schemas.",
  usage: "typescript [--schemas public[,other]]",
  help: "  --schemas LIST  comma-separated schemas to describe (default: public)\n\nTables give Row, Insert (columns with a default or null are optional) and Update (all optional).\nRedirect to a file: pgconductor gen types typescript --schemas public > src/database.types.ts",
  options: { schemas: { type: "string" } },
  positionals: [1, 1],
  async run(args, io) {
    if (args.positionals[0] !== "typescript") throw new UsageError(`unknown language "${args.positionals[0]}" (only "typescript")`);
    const schemas = String(args.values.schemas ?? "public").split(",").map((s) => s.trim()).filter(Boolean);
    if (schemas.length === 0) throw new UsageError("--schemas needs at least one schema name");
    return withDatabase(args, io, async (sql) => {
      const found = await sql<{ nspname: string }[]>`select nspname from pg_namespace where nspname = any (${schemas})`;
      const missing = schemas.filter((s) => !found.some((row) => row.nspname === s));
      if (missing.length > 0) {
        io.err(`no schema named ${missing.map((s) => `"${s}"`).join(", ")} in this database`);
        return 1;
      }
      io.out(renderDatabaseTypes(await readSchemaModel(sql, schemas)).trimEnd());
      return 0;
    });
  },
};
